//! Arrival rates as scenarios write them (`50/s`, `600/m`, `0.5/s`): one rule for the compiler.

/// The most arrivals per second a group may ask for: past it the schedule is no longer kept to
/// the millisecond on any machine, and a typo (`5000/s` for `50/s`) would flood the server.
pub const MAX_RATE: f64 = 100_000.0;

/// Why a text is not a rate, and how to write one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RateError {
    /// What is wrong.
    pub message: String,
    /// How to write it.
    pub help: &'static str,
}

const RATE_HELP: &str = "a rate is a number of arrivals per unit of time: `50/s`, `600/m`, `0.5/s`, `3600/h`";

/// Parses a rate into arrivals per second: a number that is not negative, `/`, and `s`, `m` or
/// `h`.
pub fn parse_rate(text: &str) -> Result<f64, RateError> {
    let trimmed = text.trim();
    let fail = |message: String| RateError {
        message,
        help: RATE_HELP,
    };
    let Some((number, unit)) = trimmed.split_once('/') else {
        return Err(fail(format!("`{trimmed}` is not a rate: it has no `/` and unit")));
    };
    let seconds = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(fail(format!("`{other}` is not a unit of a rate; use `s`, `m` or `h`"))),
    };
    let number = number.trim();
    let count = match number.parse::<f64>() {
        Ok(n) if n.is_finite() && number.chars().all(|c| c.is_ascii_digit() || c == '.') => n,
        Ok(n) if n < 0.0 => return Err(fail(format!("`{trimmed}` is negative; a rate cannot be"))),
        _ => return Err(fail(format!("`{number}` is not a number of arrivals"))),
    };
    let per_second = count / seconds;
    if per_second > MAX_RATE {
        return Err(fail(format!(
            "`{trimmed}` is more than the {} arrivals per second a group may start",
            crate::count::thousands(MAX_RATE as u64)
        )));
    }
    Ok(per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_arrivals_per_unit_of_time() {
        assert_eq!(parse_rate("50/s").unwrap(), 50.0);
        assert_eq!(parse_rate(" 600 / m ").unwrap(), 10.0);
        assert_eq!(parse_rate("0.5/s").unwrap(), 0.5);
        assert_eq!(parse_rate("3600/h").unwrap(), 1.0);
        assert_eq!(parse_rate("0/s").unwrap(), 0.0);
    }

    #[test]
    fn a_malformed_rate_says_what_is_wrong() {
        assert!(parse_rate("50").unwrap_err().message.contains("no `/`"));
        assert!(
            parse_rate("50/sec")
                .unwrap_err()
                .message
                .contains("`sec` is not a unit")
        );
        assert!(parse_rate("-5/s").unwrap_err().message.contains("negative"));
        assert!(parse_rate("lots/s").unwrap_err().message.contains("not a number"));
        assert!(parse_rate("1e3/s").unwrap_err().message.contains("not a number"));
        assert!(parse_rate("NaN/s").unwrap_err().message.contains("not a number"));
        assert!(parse_rate("200000/s").unwrap_err().message.contains("100,000"));
        assert_eq!(parse_rate("x").unwrap_err().help, RATE_HELP);
    }
}
