//! The keys a step's map may hold: the common keys, one kind key, and the kind's extra keys.

use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

use crate::kind::{Extra, Kind};

/// The keys every step may have, whatever its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, EnumString, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub(super) enum Common {
    Name,
    Expect,
    Save,
    Timeout,
    Retry,
    ContinueOnFailure,
}

impl Common {
    pub(super) fn key(self) -> &'static str {
        self.into()
    }
}

/// What a key of a step's map is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StepKey {
    Common(Common),
    Kind(Kind),
    Extra(Extra),
}

impl StepKey {
    pub(super) fn of(key: &str) -> Option<StepKey> {
        key.parse()
            .ok()
            .map(StepKey::Common)
            .or_else(|| Kind::of_key(key).map(StepKey::Kind))
            .or_else(|| Extra::of_key(key).map(StepKey::Extra))
    }

    /// Every key a step may have: the candidates for a misspelt one.
    pub(super) fn all() -> impl Iterator<Item = &'static str> {
        let kinds = Kind::all().map(Kind::key);
        Common::iter()
            .map(Common::key)
            .chain(kinds)
            .chain(Extra::all().map(Extra::key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_one_thing() {
        let keys: Vec<&str> = StepKey::all().collect();
        for key in &keys {
            assert_eq!(keys.iter().filter(|k| *k == key).count(), 1, "{key}");
        }
        assert_eq!(
            StepKey::of("continue_on_failure"),
            Some(StepKey::Common(Common::ContinueOnFailure))
        );
        assert_eq!(StepKey::of("group"), Some(StepKey::Kind(Kind::Group)));
        assert_eq!(StepKey::of("session_id"), Some(StepKey::Extra(Extra::SessionId)));
        assert_eq!(StepKey::of("Name"), None);
    }
}
