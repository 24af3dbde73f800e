//! The most a count may be, a limit of the language that the schema, the compiler and the
//! executor (a count a template renders at run time) all check.

/// The most a count may be: client instances in one group, iterations of one `repeat`. Every
/// instance and every iteration keeps its result until the run ends, so a mistyped count would
/// otherwise run the machine out of memory rather than fail.
pub const MAX_COUNT: u64 = 1_000_000;

/// A count past [`MAX_COUNT`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a count may be at most {}, found {found}", thousands(MAX_COUNT))]
pub struct TooMany {
    pub found: u64,
}

/// `n`, or why it is more than a count may be.
pub fn count_within_limit(n: u64) -> Result<u64, TooMany> {
    match n <= MAX_COUNT {
        true => Ok(n),
        false => Err(TooMany { found: n }),
    }
}

/// `1000000` as `1,000,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
