//! Compiled thresholds: a metric, a comparison with a number in the metric's unit, and whether a
//! breach stops the run. The limit's syntax (`< 50ms`, `<= 1%`, `== 0`) is read here, once, by
//! the compiler.

use std::time::Duration;

use serde::Serialize;

use super::metric::{Measure, Unit};
use super::parse_duration;

/// One threshold, ready to be judged.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdPlan {
    /// As written: `echo.latency.p99`.
    pub metric: String,
    /// The step or group it is measured on.
    pub subject: String,
    pub measure: Measure,
    pub unit: Unit,
    pub limit: Limit,
    /// With `abort: true`: checked every second while the clients run, from this long after
    /// the scenario's start (`after:`, else zero), and a breach stops them.
    #[serde(
        with = "abort_after",
        skip_serializing_if = "Option::is_none",
        rename = "abort_after"
    )]
    pub abort: Option<Duration>,
}

/// A comparison and the number it compares with, in the metric's unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limit {
    pub comparator: Comparator,
    /// Milliseconds, percent or a count.
    pub value: f64,
    /// As written (its template rendered), for messages: `< 50ms`.
    pub text: String,
}

/// How a value is compared with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparator {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "==")]
    Equal,
    #[serde(rename = "!=")]
    NotEqual,
}

/// The comparators as written, longest first so `<=` is not read as `<`.
const SYMBOLS: &[(&str, Comparator)] = &[
    ("<=", Comparator::AtMost),
    (">=", Comparator::AtLeast),
    ("==", Comparator::Equal),
    ("!=", Comparator::NotEqual),
    ("<", Comparator::Below),
    (">", Comparator::Above),
];

/// The most a count limit may be: far beyond any run, and exact as a float.
const MAX_COUNT_LIMIT: f64 = 1e15;

/// Why a text is not a limit, and how to write one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct LimitError {
    pub message: String,
    pub help: String,
}

impl Comparator {
    /// Whether `value` holds against `limit`.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Comparator::Below => value < limit,
            Comparator::AtMost => value <= limit,
            Comparator::Above => value > limit,
            Comparator::AtLeast => value >= limit,
            Comparator::Equal => value == limit,
            Comparator::NotEqual => value != limit,
        }
    }
}

impl Limit {
    /// Reads `text` (`< 50ms`) as a limit on a metric in `unit`, named `metric` in messages.
    pub fn parse(text: &str, unit: Unit, metric: &str) -> Result<Limit, LimitError> {
        let trimmed = text.trim();
        let written = trimmed.trim_start_matches(['<', '>', '=', '!']);
        let operator = &trimmed[..trimmed.len() - written.len()];
        let Some(&(_, comparator)) = SYMBOLS.iter().find(|(s, _)| *s == operator) else {
            let message = match operator {
                "" => format!("the limit `{trimmed}` has no comparison"),
                other => format!("`{other}` is not a comparison"),
            };
            let help = match operator {
                "=" => "write `==` for equality: `== 0`".to_string(),
                "=<" | "=>" => format!("write `{}`", operator.chars().rev().collect::<String>()),
                _ => "a limit is a comparison and a value (`< 50ms`, `<= 1%`, `== 0`); comparisons: \
                      `<`, `<=`, `>`, `>=`, `==`, `!=`"
                    .to_string(),
            };
            return Err(LimitError { message, help });
        };
        let quantity = written.trim();
        if quantity.is_empty() {
            return Err(LimitError {
                message: format!("the limit `{trimmed}` has no value after `{operator}`"),
                help: example(unit).to_string(),
            });
        }
        let value = quantity_in(unit, quantity, metric)?;
        if comparator == Comparator::Below && value == 0.0 {
            return Err(LimitError {
                message: format!("`{trimmed}` can never hold: `{metric}` is never below zero"),
                help: "write `== 0` for none at all".into(),
            });
        }
        Ok(Limit {
            comparator,
            value,
            text: format!("{operator} {quantity}"),
        })
    }

    /// Whether `value` holds against the limit.
    pub fn holds(&self, value: f64) -> bool {
        self.comparator.holds(value, self.value)
    }
}

fn example(unit: Unit) -> &'static str {
    match unit {
        Unit::Duration => "a latency or lateness limit is a duration: `< 50ms`, `<= 1.5s`",
        Unit::Percent => "a rate's limit is a percentage: `< 1%`, `<= 0.5%`",
        Unit::Count => "a count's limit is a whole number: `== 0`, `>= 100`",
    }
}

/// `quantity` in `unit`'s number: milliseconds, percent or a count.
fn quantity_in(unit: Unit, quantity: &str, metric: &str) -> Result<f64, LimitError> {
    let fail = |what: String| LimitError {
        message: format!("`{metric}` is {what}"),
        help: example(unit).to_string(),
    };
    match unit {
        Unit::Duration => parse_duration(quantity)
            .map(crate::duration_text::millis)
            .map_err(|e| fail(format!("a duration, and {}", e.message))),
        Unit::Percent => {
            let Some(number) = quantity.strip_suffix('%') else {
                return Err(fail(format!("a rate, and `{quantity}` is not a percentage")));
            };
            match plain_number(number.trim_end()) {
                Some(n) if n <= 100.0 => Ok(n),
                Some(_) => Err(fail(format!("a rate, and `{quantity}` is more than 100%"))),
                None => Err(fail(format!("a rate, and `{quantity}` is not a percentage"))),
            }
        }
        Unit::Count => match plain_number(quantity) {
            Some(n) if n.fract() != 0.0 => Err(fail(format!("a count, and `{quantity}` is not a whole number"))),
            Some(n) if n > MAX_COUNT_LIMIT => Err(fail(format!("a count, and `{quantity}` is beyond any run"))),
            Some(n) => Ok(n),
            None => Err(fail(format!("a count, and `{quantity}` is not a whole number"))),
        },
    }
}

/// A number written with digits and at most one `.`, no sign: `0`, `12`, `0.5`. Anything else
/// (`-1`, `1e3`, `inf`, `NaN`) is not a limit's number.
fn plain_number(text: &str) -> Option<f64> {
    let digits = text.chars().all(|c| c.is_ascii_digit() || c == '.');
    let one_point = text.matches('.').count() <= 1;
    let has_digit = text.chars().any(|c| c.is_ascii_digit());
    (digits && one_point && has_digit).then(|| text.parse().ok()).flatten()
}

/// `abort_after` is written as humantime text (`10s`), as scenarios write durations.
mod abort_after {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::super::humantime_serde_compat::serialize(d, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(text: &str, unit: Unit) -> Result<(Comparator, f64), String> {
        Limit::parse(text, unit, "m")
            .map(|l| (l.comparator, l.value))
            .map_err(|e| e.message)
    }

    #[test]
    fn limits_read_in_their_metrics_units() {
        assert_eq!(limit("< 50ms", Unit::Duration), Ok((Comparator::Below, 50.0)));
        assert_eq!(limit("<=1.5s", Unit::Duration), Ok((Comparator::AtMost, 1500.0)));
        assert_eq!(limit(" >= 250us ", Unit::Duration), Ok((Comparator::AtLeast, 0.25)));
        assert_eq!(limit("< 1%", Unit::Percent), Ok((Comparator::Below, 1.0)));
        assert_eq!(limit("<= 0.5 %", Unit::Percent), Ok((Comparator::AtMost, 0.5)));
        assert_eq!(limit("== 0", Unit::Count), Ok((Comparator::Equal, 0.0)));
        assert_eq!(limit("!= 3", Unit::Count), Ok((Comparator::NotEqual, 3.0)));
        assert_eq!(limit("> 100", Unit::Count), Ok((Comparator::Above, 100.0)));
        assert_eq!(Limit::parse("<=50ms", Unit::Duration, "m").unwrap().text, "<= 50ms");
    }

    #[test]
    fn malformed_limits_say_what_is_wrong() {
        let cases = [
            ("50ms", Unit::Duration, "the limit `50ms` has no comparison"),
            ("=< 50ms", Unit::Duration, "`=<` is not a comparison"),
            ("= 0", Unit::Count, "`=` is not a comparison"),
            ("<", Unit::Count, "the limit `<` has no value after `<`"),
            ("< 50", Unit::Duration, "`m` is a duration, and `50` has no unit"),
            (
                "< -5ms",
                Unit::Duration,
                "`m` is a duration, and `-5ms` is negative; a duration cannot be",
            ),
            ("< 0.01", Unit::Percent, "`m` is a rate, and `0.01` is not a percentage"),
            ("< 150%", Unit::Percent, "`m` is a rate, and `150%` is more than 100%"),
            ("< -1%", Unit::Percent, "`m` is a rate, and `-1%` is not a percentage"),
            ("< inf%", Unit::Percent, "`m` is a rate, and `inf%` is not a percentage"),
            ("== 1.5", Unit::Count, "`m` is a count, and `1.5` is not a whole number"),
            (
                "== 10ms",
                Unit::Count,
                "`m` is a count, and `10ms` is not a whole number",
            ),
            (
                "< 1e99",
                Unit::Count,
                "`m` is a count, and `1e99` is not a whole number",
            ),
            (
                "< 99999999999999999",
                Unit::Count,
                "`m` is a count, and `99999999999999999` is beyond any run",
            ),
            (
                "< 0ms",
                Unit::Duration,
                "`< 0ms` can never hold: `m` is never below zero",
            ),
        ];
        for (text, unit, message) in cases {
            assert_eq!(limit(text, unit), Err(message.to_string()), "{text}");
        }
        let help = Limit::parse("=> 3", Unit::Count, "m").unwrap_err().help;
        assert_eq!(help, "write `>=`");
    }

    #[test]
    fn comparators_compare() {
        let holds = |c: Comparator, v| c.holds(v, 10.0);
        assert!(holds(Comparator::Below, 9.9) && !holds(Comparator::Below, 10.0));
        assert!(holds(Comparator::AtMost, 10.0) && !holds(Comparator::AtMost, 10.1));
        assert!(holds(Comparator::Above, 10.1) && !holds(Comparator::Above, 10.0));
        assert!(holds(Comparator::AtLeast, 10.0) && !holds(Comparator::AtLeast, 9.0));
        assert!(holds(Comparator::Equal, 10.0) && !holds(Comparator::Equal, 0.0));
        assert!(holds(Comparator::NotEqual, 0.0) && !holds(Comparator::NotEqual, 10.0));
    }
}
