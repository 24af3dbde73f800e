//! A step: one key naming its kind, beside the keys every step may have.
//!
//! `- call: heartbeat` is a map whose kind key (`call`) stands beside common keys (`expect`,
//! `save`, …) and keys that belong to the kind (`arguments`). Serde's `flatten` would lose the
//! node positions our diagnostics need, so this visitor reads the keys by hand.

use schemars::JsonSchema;
use serde::Deserialize as DeriveDeserialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::located;
use super::{Assertion, DurationText, Entries, Name, Node, Spanned, Text};
use crate::source::Pos;

/// One step of a client, a phase, a loop or a group.
#[derive(Debug, Clone)]
pub struct Step {
    /// Where the step's first key stands.
    pub at: Pos,
    /// The name in reports and in `counts`; defaults to the kind and its subject (`call heartbeat`).
    pub name: Option<Text>,
    /// Assertions on the step's result.
    pub expect: Option<Spanned<Vec<Assertion>>>,
    /// Values to capture into variables: a JSONPath into the result, or a template.
    pub save: Entries<Text>,
    /// Deadline for the whole step.
    pub timeout: Option<DurationText>,
    /// Poll the step until its `expect` holds.
    pub retry: Option<Spanned<Retry>>,
    /// Go on with the next step when this one fails (the run still fails).
    pub continue_on_failure: Option<Spanned<bool>>,
    /// The connection a network step uses, when there is more than one of its kind.
    pub connection: Option<Name>,
    /// The `Mcp-Session-Id` an MCP step sends instead of its connection's session (e.g. one
    /// the server never issued); the connection's own session is left as it is.
    pub session_id: Option<Text>,
    /// What the step does; `at` is the kind key's position.
    pub kind: Spanned<StepKind>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// MCP `initialize` + `notifications/initialized`.
    Initialize(InitializeStep),
    /// MCP `tools/call`.
    Call {
        /// The tool name.
        tool: Text,
        /// The tool's arguments.
        arguments: Option<Spanned<Node>>,
    },
    /// Any MCP request.
    Request {
        /// The JSON-RPC method.
        method: Text,
        /// The request params.
        params: Option<Spanned<Node>>,
    },
    /// An MCP notification.
    Notify {
        /// The JSON-RPC method.
        method: Text,
        /// The notification params.
        params: Option<Spanned<Node>>,
    },
    /// HTTP DELETE of the MCP session.
    Close,
    /// Drop the session without telling the server (a crash).
    Forget,
    /// A plain HTTP request.
    Http(HttpStep),
    /// A SQL query; values are bound as parameters, never spliced into the text.
    Sql {
        /// The query, as the database sees it (no templates).
        query: Spanned<String>,
        /// The values for `$1`, `$2`, … (or `?` in SQLite).
        params: Vec<Spanned<Node>>,
    },
    /// Sleep.
    Wait(DurationText),
    /// Run the nested steps in a loop.
    Repeat {
        /// How long and how often.
        repeat: Repeat,
        /// The loop body.
        steps: Spanned<Vec<Step>>,
    },
    /// Wait until every client instance that names this barrier arrives.
    Barrier(Name),
    /// Assign variables.
    Set(Entries<Spanned<Node>>),
    /// A pure assertion on variables: `check: "{{ a == b }}"`.
    Check(Text),
    /// A named block of steps.
    Group {
        /// The group's name.
        name: Name,
        /// The block.
        steps: Spanned<Vec<Step>>,
    },
}

impl StepKind {
    /// The kind key, as written in the file.
    pub fn key(&self) -> &'static str {
        match self {
            StepKind::Initialize(_) => "initialize",
            StepKind::Call { .. } => "call",
            StepKind::Request { .. } => "request",
            StepKind::Notify { .. } => "notify",
            StepKind::Close => "close",
            StepKind::Forget => "forget",
            StepKind::Http(_) => "http",
            StepKind::Sql { .. } => "sql",
            StepKind::Wait(_) => "wait",
            StepKind::Repeat { .. } => "repeat",
            StepKind::Barrier(_) => "barrier",
            StepKind::Set(_) => "set",
            StepKind::Check(_) => "check",
            StepKind::Group { .. } => "group",
        }
    }
}

/// Settings of an `initialize` step; all optional (`initialize: {}`).
#[derive(Debug, Clone, Default, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InitializeStep {
    /// Overrides the connection's `client_info` for this handshake.
    pub client_info: Option<super::ClientInfo>,
    /// Overrides the connection's `capabilities`.
    pub capabilities: Option<Spanned<Node>>,
}

/// A plain HTTP request.
#[derive(Debug, Clone, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    /// `GET` (default), `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD` or `OPTIONS`.
    pub method: Option<Spanned<String>>,
    /// A path appended to the connection's `base_url`.
    pub path: Option<Text>,
    /// A full URL (instead of `path`).
    pub url: Option<Text>,
    /// Extra headers.
    #[serde(default)]
    pub headers: Entries<Text>,
    /// Query parameters.
    #[serde(default)]
    pub query: Entries<Spanned<Node>>,
    /// A JSON body.
    pub json: Option<Spanned<Node>>,
    /// A raw body.
    pub body: Option<Text>,
}

/// How a `repeat` loop runs: at least one of `times` and `for`.
#[derive(Debug, Clone, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// How many iterations.
    pub times: Option<super::Count>,
    /// For how long.
    #[serde(rename = "for")]
    pub for_: Option<DurationText>,
    /// Start an iteration at this fixed rate (open loop; lateness is recorded).
    pub every: Option<DurationText>,
}

/// Poll a step until its expectations hold.
#[derive(Debug, Clone, DeriveDeserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Give up after this long.
    pub within: DurationText,
    /// Pause between attempts; default `1s`.
    pub every: Option<DurationText>,
}

/// The keys every step may have.
pub const COMMON_KEYS: &[&str] = &["name", "expect", "save", "timeout", "retry", "continue_on_failure"];

/// The kind keys.
pub const KIND_KEYS: &[&str] = &[
    "initialize",
    "call",
    "request",
    "notify",
    "close",
    "forget",
    "http",
    "sql",
    "wait",
    "repeat",
    "barrier",
    "set",
    "check",
    "group",
];

/// Keys that belong to some kinds only, and the kinds that take them.
pub const KIND_EXTRA_KEYS: &[(&str, &[&str])] = &[
    (
        "connection",
        &[
            "initialize",
            "call",
            "request",
            "notify",
            "close",
            "forget",
            "http",
            "sql",
        ],
    ),
    ("session_id", &["call", "request", "notify", "close"]),
    ("arguments", &["call"]),
    ("params", &["request", "notify", "sql"]),
    ("steps", &["repeat", "group"]),
];

/// The head of a step kind: what the kind key itself holds.
enum Head {
    Initialize(InitializeStep),
    Call(Text),
    Request(Text),
    Notify(Text),
    Close,
    Forget,
    Http(HttpStep),
    Sql(Spanned<String>),
    Wait(DurationText),
    Repeat(Repeat),
    Barrier(Name),
    Set(Entries<Spanned<Node>>),
    Check(Text),
    Group(Name),
}

/// `close: {}` and `forget:` take no settings.
#[derive(DeriveDeserialize)]
#[serde(deny_unknown_fields)]
struct NoSettings {}

fn read_head<'de, A: MapAccess<'de>>(kind: &str, map: &mut A) -> Result<Head, A::Error> {
    Ok(match kind {
        "initialize" => Head::Initialize(map.next_value::<Option<InitializeStep>>()?.unwrap_or_default()),
        "call" => Head::Call(map.next_value()?),
        "request" => Head::Request(map.next_value()?),
        "notify" => Head::Notify(map.next_value()?),
        "close" => {
            map.next_value::<Option<NoSettings>>()?;
            Head::Close
        }
        "forget" => {
            map.next_value::<Option<NoSettings>>()?;
            Head::Forget
        }
        "http" => Head::Http(map.next_value()?),
        "sql" => Head::Sql(map.next_value()?),
        "wait" => Head::Wait(map.next_value()?),
        "repeat" => Head::Repeat(map.next_value()?),
        "barrier" => Head::Barrier(map.next_value()?),
        "set" => Head::Set(map.next_value()?),
        "check" => Head::Check(map.next_value()?),
        "group" => Head::Group(map.next_value()?),
        _ => unreachable!("read_head is called with kind keys only"),
    })
}

/// The keys that go with some kinds only, as read.
#[derive(Default)]
struct Extras {
    connection: Option<(Spanned<String>, Name)>,
    session_id: Option<(Spanned<String>, Text)>,
    arguments: Option<(Spanned<String>, Spanned<Node>)>,
    params: Option<(Spanned<String>, Spanned<Node>)>,
    steps: Option<(Spanned<String>, Spanned<Vec<Step>>)>,
}

impl Extras {
    /// Rejects an extra key that the kind does not take.
    fn check_allowed<E: de::Error>(&self, kind: &str) -> Result<(), E> {
        let present = [
            self.connection.as_ref().map(|(k, _)| k),
            self.session_id.as_ref().map(|(k, _)| k),
            self.arguments.as_ref().map(|(k, _)| k),
            self.params.as_ref().map(|(k, _)| k),
            self.steps.as_ref().map(|(k, _)| k),
        ];
        for key in present.into_iter().flatten() {
            let takers = KIND_EXTRA_KEYS
                .iter()
                .find(|(k, _)| *k == key.value)
                .map_or(&[][..], |(_, kinds)| *kinds);
            if !takers.contains(&kind) {
                return Err(located::error(
                    key.at,
                    key.value.len(),
                    format_args!("`{}` does not go with a `{kind}` step", key.value),
                    Some(format!("`{}` goes with: {}", key.value, takers.join(", "))),
                ));
            }
        }
        Ok(())
    }
}

fn assemble<E: de::Error>(head: Head, kind_key: &Spanned<String>, extras: &mut Extras) -> Result<StepKind, E> {
    let mut body = || {
        extras.steps.take().map(|(_, s)| s).ok_or_else(|| {
            located::error(
                kind_key.at,
                kind_key.value.len(),
                format_args!("a `{}` step needs `steps:`, the list of steps it runs", kind_key.value),
                None,
            )
        })
    };
    Ok(match head {
        Head::Initialize(s) => StepKind::Initialize(s),
        Head::Call(tool) => StepKind::Call {
            tool,
            arguments: extras.arguments.take().map(|(_, a)| a),
        },
        Head::Request(method) => StepKind::Request {
            method,
            params: extras.params.take().map(|(_, p)| p),
        },
        Head::Notify(method) => StepKind::Notify {
            method,
            params: extras.params.take().map(|(_, p)| p),
        },
        Head::Close => StepKind::Close,
        Head::Forget => StepKind::Forget,
        Head::Http(h) => StepKind::Http(h),
        Head::Sql(query) => StepKind::Sql {
            query,
            params: sql_params::<E>(extras.params.take())?,
        },
        Head::Wait(d) => StepKind::Wait(d),
        Head::Repeat(repeat) => StepKind::Repeat { repeat, steps: body()? },
        Head::Barrier(name) => StepKind::Barrier(name),
        Head::Set(vars) => StepKind::Set(vars),
        Head::Check(expr) => StepKind::Check(expr),
        Head::Group(name) => StepKind::Group { name, steps: body()? },
    })
}

fn sql_params<E: de::Error>(params: Option<(Spanned<String>, Spanned<Node>)>) -> Result<Vec<Spanned<Node>>, E> {
    match params {
        None => Ok(Vec::new()),
        Some((
            _,
            Spanned {
                value: Node::List(items),
                ..
            },
        )) => Ok(items),
        Some((_, other)) => Err(located::error(
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
        let mut kind: Option<(Spanned<String>, Head)> = None;
        let mut extras = Extras::default();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            at.get_or_insert(key.at);
            match key.value.as_str() {
                "name" => step.name = Some(map.next_value()?),
                "expect" => step.expect = Some(map.next_value()?),
                "save" => step.save = map.next_value()?,
                "timeout" => step.timeout = Some(map.next_value()?),
                "retry" => step.retry = Some(map.next_value()?),
                "continue_on_failure" => step.continue_on_failure = Some(map.next_value()?),
                "connection" => extras.connection = Some((key, map.next_value()?)),
                "session_id" => extras.session_id = Some((key, map.next_value()?)),
                "arguments" => extras.arguments = Some((key, map.next_value()?)),
                "params" => extras.params = Some((key, map.next_value()?)),
                "steps" => extras.steps = Some((key, map.next_value()?)),
                k if KIND_KEYS.contains(&k) => {
                    if let Some((first, _)) = &kind {
                        return Err(located::error(
                            key.at,
                            key.value.len(),
                            format_args!(
                                "a step has one kind, but this one has `{}` and `{}`",
                                first.value, key.value
                            ),
                            Some("split it into two steps".into()),
                        ));
                    }
                    let head = read_head(k, &mut map)?;
                    kind = Some((key, head));
                }
                other => {
                    let known = COMMON_KEYS
                        .iter()
                        .chain(KIND_KEYS)
                        .chain(KIND_EXTRA_KEYS.iter().map(|(k, _)| k))
                        .copied();
                    return Err(located::error(
                        key.at,
                        other.len(),
                        format_args!("unknown step key `{other}`"),
                        crate::suggest::did_you_mean(other, known),
                    ));
                }
            }
        }
        let at = at.unwrap_or_default();
        let Some((kind_key, head)) = kind else {
            return Err(located::error(
                at,
                0,
                "this step has no kind",
                Some(format!("a step needs one of: {}", KIND_KEYS.join(", "))),
            ));
        };
        extras.check_allowed(&kind_key.value)?;
        step.at = at;
        step.connection = extras.connection.take().map(|(_, c)| c);
        step.session_id = extras.session_id.take().map(|(_, s)| s);
        step.kind = Spanned::new(assemble(head, &kind_key, &mut extras)?, kind_key.at);
        Ok(step)
    }
}
