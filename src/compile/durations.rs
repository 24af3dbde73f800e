//! Durations (`500ms`, `2m`, `1h 30m`) and counts, checked at compile time when they are fixed
//! and kept as templates when they depend on run-time values.

use std::time::Duration;

use super::Compiler;
use super::scope::Scope;
use super::templates::is_template;
use crate::count::count_within_limit;
use crate::plan::{DurationPlan, Resolved, ValuePlan, parse_duration};
use crate::source::Pos;
use crate::spec::{Count, DurationText, Node, Spanned};

/// Whether a zero duration makes sense where it stands (`wait: 0s` does; `every: 0s` does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zero {
    Allowed,
    Refused,
}

impl Compiler<'_> {
    /// A duration that may depend on run-time values.
    pub(super) fn duration(&mut self, d: &DurationText, scope: &Scope, zero: Zero) -> Option<DurationPlan> {
        let text = &d.0;
        if !is_template(&text.value) {
            return self.checked_duration(&text.value, text, zero).map(DurationPlan::Fixed);
        }
        let compiled = self.template(text, scope)?;
        if !compiled.fixed {
            return Some(DurationPlan::Template(compiled.template));
        }
        let value = self.render_fixed(&ValuePlan::Template(compiled.template), text.at)?;
        let rendered = match value {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        self.checked_duration(&rendered, text, zero).map(DurationPlan::Fixed)
    }

    /// A duration that must be known before the run (group timing, lab settings, connection
    /// deadlines).
    pub(super) fn fixed_duration(&mut self, d: Option<&DurationText>, default: Duration, zero: Zero) -> Duration {
        let Some(d) = d else { return default };
        let scope = Scope::fixed(self.var_names());
        match self.duration(d, &scope, zero) {
            Some(DurationPlan::Fixed(d)) => d,
            _ => default,
        }
    }

    /// Parses `text`, the duration as written or as its template rendered; errors mark `written`.
    fn checked_duration(&mut self, text: &str, written: &Spanned<String>, zero: Zero) -> Option<Duration> {
        let (at, width) = (written.at, written.value.len());
        match parse_duration(text) {
            Ok(d) if d.is_zero() && zero == Zero::Refused => {
                self.error(
                    at,
                    format!("`{}` is zero, but this duration must be longer than that", text.trim()),
                )
                .width(width);
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.error(at, e.message).width(width).help(e.help);
                None
            }
        }
    }

    /// A count (1 to [`MAX_COUNT`](crate::count::MAX_COUNT)) that may depend on run-time values.
    pub(super) fn count(&mut self, c: &Count, scope: &Scope) -> Option<Resolved<u64>> {
        let node = &c.0;
        if let Node::String(s) = &node.value
            && is_template(s)
        {
            let text = Spanned::new(s.clone(), node.at);
            let compiled = self.template(&text, scope)?;
            if !compiled.fixed {
                return Some(Resolved::Template(compiled.template));
            }
            let value = self.render_fixed(&ValuePlan::Template(compiled.template), node.at)?;
            return self.checked_count(&value, node.at).map(Resolved::Fixed);
        }
        self.checked_count(&node.value.to_json(), node.at).map(Resolved::Fixed)
    }

    /// A count that must be known before the run.
    pub(super) fn fixed_count(&mut self, c: Option<&Count>, default: u64) -> u64 {
        let Some(c) = c else { return default };
        let scope = Scope::fixed(self.var_names());
        match self.count(c, &scope) {
            Some(Resolved::Fixed(n)) => n,
            _ => default,
        }
    }

    fn checked_count(&mut self, value: &serde_json::Value, at: Pos) -> Option<u64> {
        let number = match value {
            serde_json::Value::String(s) => s.trim().parse::<i64>().ok().map(serde_json::Value::from),
            other => Some(other.clone()),
        };
        match number.as_ref().and_then(serde_json::Value::as_i64) {
            Some(n) if n >= 1 => match count_within_limit(n as u64) {
                Ok(n) => Some(n),
                Err(too_many) => {
                    self.error(at, too_many.to_string()).help(
                        "a count is the client instances of one group or the iterations of one `repeat`; \
                         split the load over several groups",
                    );
                    None
                }
            },
            Some(n) => {
                self.error(at, format!("a count must be at least 1, found {n}"));
                None
            }
            None => {
                self.error(at, format!("expected a whole number of at least 1, found {value}"));
                None
            }
        }
    }
}
