//! The step kinds: the one table from which the language's keys, the schema's arms, the
//! compiler's checks and the executor's dispatch all follow.
//!
//! Adding a kind is a variant here, its row in [`Kind::row`], and its module in `exec/kind/`;
//! every `match` on a kind is exhaustive, so the compiler names each place that must learn it.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

/// What a step does, as its kind key names it (`call`, `http`, `wait`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, EnumString, IntoStaticStr, Serialize, Deserialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Initialize,
    Call,
    Request,
    Notify,
    Close,
    Forget,
    Http,
    Sql,
    Wait,
    Repeat,
    Barrier,
    Set,
    Check,
    Group,
}

/// The keys that go with some kinds only, beside the keys every step may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, EnumString, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Extra {
    Connection,
    SessionId,
    Arguments,
    Params,
    Steps,
}

/// What a step talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// An MCP server, on an `mcp` connection.
    Mcp,
    /// An HTTP API, on an `http` connection (or a full URL).
    Http,
    /// A database, on a `sql` connection.
    Sql,
    /// Nothing outside the runner: timing, variables, control flow.
    Local,
}

/// One kind's facts.
pub struct Row {
    pub family: Family,
    /// The extra keys it takes.
    pub extras: &'static [Extra],
    /// It sends something and gets a result that `expect`, `save` and `retry` can look at.
    pub has_result: bool,
    /// It enforces its deadline itself: a barrier releases its waiters with a reason, and a query
    /// past its deadline is cancelled on the server, where a dropped future would abandon it.
    pub keeps_own_deadline: bool,
}

const fn row(family: Family, extras: &'static [Extra], has_result: bool) -> Row {
    Row {
        family,
        extras,
        has_result,
        keeps_own_deadline: false,
    }
}

use Extra::{Arguments, Connection, Params, SessionId, Steps};

impl Kind {
    /// The kind's facts: the table.
    pub const fn row(self) -> Row {
        match self {
            Kind::Initialize => row(Family::Mcp, &[Connection], true),
            Kind::Call => row(Family::Mcp, &[Connection, SessionId, Arguments], true),
            Kind::Request | Kind::Notify => row(Family::Mcp, &[Connection, SessionId, Params], true),
            Kind::Close => row(Family::Mcp, &[Connection, SessionId], true),
            Kind::Forget => row(Family::Mcp, &[Connection], false),
            Kind::Http => row(Family::Http, &[Connection], true),
            Kind::Sql => Row {
                keeps_own_deadline: true,
                ..row(Family::Sql, &[Connection, Params], true)
            },
            Kind::Wait | Kind::Set | Kind::Check => row(Family::Local, &[], false),
            Kind::Barrier => Row {
                keeps_own_deadline: true,
                ..row(Family::Local, &[], false)
            },
            Kind::Repeat | Kind::Group => row(Family::Local, &[Steps], false),
        }
    }

    /// The kind key, as written in the file.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// The kind of a key, if it is one.
    pub fn of_key(key: &str) -> Option<Kind> {
        key.parse().ok()
    }

    /// Every kind, in the order the docs list them.
    pub fn all() -> impl Iterator<Item = Kind> {
        Kind::iter()
    }

    pub fn takes(self, extra: Extra) -> bool {
        self.row().extras.contains(&extra)
    }

    pub fn is_mcp(self) -> bool {
        self.row().family == Family::Mcp
    }

    /// A `repeat` or a `group`: it runs a list of steps, which it requires.
    pub fn nests(self) -> bool {
        self.takes(Steps)
    }
}

impl Extra {
    pub fn key(self) -> &'static str {
        self.into()
    }

    pub fn of_key(key: &str) -> Option<Extra> {
        key.parse().ok()
    }

    pub fn all() -> impl Iterator<Item = Extra> {
        Extra::iter()
    }

    /// The kinds that take this key.
    pub fn takers(self) -> impl Iterator<Item = Kind> {
        Kind::all().filter(move |k| k.takes(self))
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_as_their_kinds() {
        for kind in Kind::all() {
            assert_eq!(Kind::of_key(kind.key()), Some(kind));
        }
        for extra in Extra::all() {
            assert_eq!(Extra::of_key(extra.key()), Some(extra));
        }
        assert_eq!(Kind::of_key("session_id"), None);
        assert_eq!(Kind::Initialize.key(), "initialize");
        assert_eq!(Extra::SessionId.key(), "session_id");
    }

    #[test]
    fn every_extra_key_has_a_taker() {
        for extra in Extra::all() {
            assert!(extra.takers().next().is_some(), "{extra:?}");
        }
    }
}
