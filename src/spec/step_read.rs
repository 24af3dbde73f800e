//! Reading a step.
//!
//! `- call: heartbeat` is a map whose kind key (`call`) stands beside common keys (`expect`,
//! `save`, …) and keys that belong to the kind (`arguments`), in any order. Serde's `flatten`
//! would lose the node positions our diagnostics need, so this visitor reads the keys by hand.

use serde::Deserialize as DeriveDeserialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::located;
use super::step_key::{Common, StepKey};
use super::{Entries, InitializeStep, Name, Node, Spanned, Step, StepKind, Text};
use crate::kind::{Extra, Kind};
use crate::source::Pos;

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a step: a map with one kind key such as `call: TOOL`, `http: {...}` or `wait: 5s`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let mut at = None;
        let mut step = Step {
            at: Pos::default(),
            name: None,
            expect: None,
            save: Entries::default(),
            timeout: None,
            retry: None,
            continue_on_failure: None,
            connection: None,
            session_id: None,
            kind: Spanned::new(StepKind::Close, Pos::default()),
        };
        let mut head: Option<Spanned<StepKind>> = None;
        let mut extras = Extras::default();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            at.get_or_insert(key.at);
            match StepKey::of(&key.value) {
                Some(StepKey::Common(common)) => read_common(&mut step, common, &mut map)?,
                Some(StepKey::Extra(extra)) => extras.read(extra, key.at, &mut map)?,
                Some(StepKey::Kind(kind)) => {
                    if let Some(first) = &head {
                        return Err(two_kinds(first.value.kind(), kind, key.at));
                    }
                    head = Some(Spanned::new(read_head(kind, key.at, &mut map)?, key.at));
                }
                None => return Err(unknown_key(&key)),
            }
        }
        step.at = at.unwrap_or_default();
        let Some(mut head) = head else {
            return Err(no_kind(step.at));
        };
        extras.check_allowed(head.value.kind())?;
        step.connection = extras.connection.take();
        step.session_id = extras.session_id.take();
        extras.fill(&mut head)?;
        step.kind = head;
        Ok(step)
    }
}

fn read_common<'de, A: MapAccess<'de>>(step: &mut Step, key: Common, map: &mut A) -> Result<(), A::Error> {
    match key {
        Common::Name => step.name = Some(map.next_value()?),
        Common::Expect => step.expect = Some(map.next_value()?),
        Common::Save => step.save = map.next_value()?,
        Common::Timeout => step.timeout = Some(map.next_value()?),
        Common::Retry => step.retry = Some(map.next_value()?),
        Common::ContinueOnFailure => step.continue_on_failure = Some(map.next_value()?),
    }
    Ok(())
}

/// `close: {}` and `forget:` take no settings.
#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields)]
struct NoSettings {}

/// Reads what the kind key holds. The extra keys may stand after it, so the kind's share of them
/// starts empty and [`Extras::fill`] puts them in.
fn read_head<'de, A: MapAccess<'de>>(kind: Kind, at: Pos, map: &mut A) -> Result<StepKind, A::Error> {
    let no_steps = || Spanned::new(Vec::new(), at);
    Ok(match kind {
        Kind::Initialize => StepKind::Initialize(map.next_value::<Option<InitializeStep>>()?.unwrap_or_default()),
        Kind::Call => StepKind::Call {
            tool: map.next_value()?,
            arguments: None,
        },
        Kind::Request => StepKind::Request {
            method: map.next_value()?,
            params: None,
        },
        Kind::Notify => StepKind::Notify {
            method: map.next_value()?,
            params: None,
        },
        Kind::Close => {
            map.next_value::<Option<NoSettings>>()?;
            StepKind::Close
        }
        Kind::Forget => {
            map.next_value::<Option<NoSettings>>()?;
            StepKind::Forget
        }
        Kind::Http => StepKind::Http(map.next_value()?),
        Kind::Sql => StepKind::Sql {
            query: map.next_value()?,
            params: Vec::new(),
        },
        Kind::Wait => StepKind::Wait(map.next_value()?),
        Kind::Repeat => StepKind::Repeat {
            repeat: map.next_value()?,
            steps: no_steps(),
        },
        Kind::Barrier => StepKind::Barrier(map.next_value()?),
        Kind::Set => StepKind::Set(map.next_value()?),
        Kind::Check => StepKind::Check(map.next_value()?),
        Kind::Group => StepKind::Group {
            name: map.next_value()?,
            steps: no_steps(),
        },
    })
}

/// The keys that go with some kinds only, as read, and where each stands.
#[derive(Default)]
struct Extras {
    seen: Vec<(Extra, Pos)>,
    connection: Option<Name>,
    session_id: Option<Text>,
    arguments: Option<Spanned<Node>>,
    params: Option<Spanned<Node>>,
    steps: Option<Spanned<Vec<Step>>>,
}

impl Extras {
    fn read<'de, A: MapAccess<'de>>(&mut self, extra: Extra, at: Pos, map: &mut A) -> Result<(), A::Error> {
        match extra {
            Extra::Connection => self.connection = Some(map.next_value()?),
            Extra::SessionId => self.session_id = Some(map.next_value()?),
            Extra::Arguments => self.arguments = Some(map.next_value()?),
            Extra::Params => self.params = Some(map.next_value()?),
            Extra::Steps => self.steps = Some(map.next_value()?),
        }
        self.seen.push((extra, at));
        Ok(())
    }

    /// Rejects an extra key that the kind does not take; of several, the first in the table.
    fn check_allowed<E: de::Error>(&self, kind: Kind) -> Result<(), E> {
        let misplaced = Extra::all()
            .filter(|extra| !kind.takes(*extra))
            .find_map(|extra| self.seen.iter().find(|(seen, _)| *seen == extra));
        let Some(&(extra, at)) = misplaced else {
            return Ok(());
        };
        let key = extra.key();
        let takers: Vec<&str> = extra.takers().map(Kind::key).collect();
        Err(located::error(
            at,
            key.len(),
            format_args!("`{key}` does not go with a `{kind}` step"),
            Some(format!("`{key}` goes with: {}", takers.join(", "))),
        ))
    }

    /// Puts the kind's extra keys into what its key held.
    fn fill<E: de::Error>(self, head: &mut Spanned<StepKind>) -> Result<(), E> {
        let kind = head.value.kind();
        if kind.nests() && self.steps.is_none() {
            return Err(located::error(
                head.at,
                kind.key().len(),
                format_args!("a `{kind}` step needs `steps:`, the list of steps it runs"),
                None,
            ));
        }
        match &mut head.value {
            StepKind::Call { arguments, .. } => *arguments = self.arguments,
            StepKind::Request { params, .. } | StepKind::Notify { params, .. } => *params = self.params,
            StepKind::Sql { params, .. } => *params = sql_params(self.params)?,
            StepKind::Repeat { steps, .. } | StepKind::Group { steps, .. } => {
                if let Some(body) = self.steps {
                    *steps = body;
                }
            }
            StepKind::Initialize(_)
            | StepKind::Close
            | StepKind::Forget
            | StepKind::Http(_)
            | StepKind::Wait(_)
            | StepKind::Barrier(_)
            | StepKind::Set(_)
            | StepKind::Check(_) => {}
        }
        Ok(())
    }
}

fn sql_params<E: de::Error>(params: Option<Spanned<Node>>) -> Result<Vec<Spanned<Node>>, E> {
    match params {
        None => Ok(Vec::new()),
        Some(Spanned {
            value: Node::List(items),
            ..
        }) => Ok(items),
        Some(other) => Err(located::error(
            other.at,
            0,
            format_args!(
                "`params` of a `sql` step must be a list, found {}",
                other.value.type_name()
            ),
            Some("write `params: [\"{{ session_id }}\"]`".into()),
        )),
    }
}

fn two_kinds<E: de::Error>(first: Kind, second: Kind, at: Pos) -> E {
    located::error(
        at,
        second.key().len(),
        format_args!("a step has one kind, but this one has `{first}` and `{second}`"),
        Some("split it into two steps".into()),
    )
}

fn unknown_key<E: de::Error>(key: &Spanned<String>) -> E {
    located::error(
        key.at,
        key.value.len(),
        format_args!("unknown step key `{}`", key.value),
        crate::suggest::did_you_mean(&key.value, StepKey::all()),
    )
}

fn no_kind<E: de::Error>(at: Pos) -> E {
    let kinds: Vec<&str> = Kind::all().map(Kind::key).collect();
    located::error(
        at,
        0,
        "this step has no kind",
        Some(format!("a step needs one of: {}", kinds.join(", "))),
    )
}
