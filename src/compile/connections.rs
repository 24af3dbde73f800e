//! `connections:` compiled, and the connection each network step uses.

use std::sync::Arc;
use std::time::Duration;

use super::Compiler;
use super::durations::Zero;
use super::scope::{Phase, Scope};
use super::templates::is_template;
use crate::plan::{
    ClientInfoPlan, Conn, ConnectionKind, ConnectionPlan, HttpConnectionPlan, MAX_ANSWER, McpConnectionPlan,
    SqlConnectionPlan, ValuePlan,
};
use crate::source::Pos;
use crate::spec::{ClientInfo, Connection, Entries, Name, Spanned, Text};
use crate::suggest;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_POOL_SIZE: u32 = 4;

impl Compiler<'_> {
    pub(super) fn connections(&mut self) -> Vec<ConnectionPlan> {
        // Connections open per client instance, so their templates may name the client.
        let mut scope = Scope::phase(Phase::Clients, self.var_names());
        scope.remove("counts");
        let connections: Vec<ConnectionPlan> = self
            .spec
            .connections
            .iter()
            .map(|(name, connection)| ConnectionPlan {
                name: name.value.clone(),
                kind: self.connection(connection, &scope),
            })
            .collect();
        self.connections = connections.clone();
        connections
    }

    fn connection(&mut self, connection: &Connection, scope: &Scope) -> ConnectionKind {
        match connection {
            Connection::Mcp(c) => ConnectionKind::Mcp(Arc::new(McpConnectionPlan {
                url: self.text(&c.url, scope),
                protocol_version: c.protocol_version.as_ref().map(|v| v.value).unwrap_or_default(),
                headers: self.headers(&c.headers, scope),
                on_expired: c.on_expired,
                client_info: self.client_info(c.client_info.as_ref(), scope),
                capabilities: c
                    .capabilities
                    .as_ref()
                    .map_or(ValuePlan::Literal(serde_json::json!({})), |n| self.value(n, scope)),
                connect_timeout: self.fixed_duration(c.connect_timeout.as_ref(), CONNECT_TIMEOUT, Zero::Refused),
                timeout: self.fixed_duration(c.timeout.as_ref(), REQUEST_TIMEOUT, Zero::Refused),
                idle_timeout: self.fixed_duration(c.idle_timeout.as_ref(), REQUEST_TIMEOUT, Zero::Refused),
                max_answer: self.size(c.max_answer.as_ref()),
            })),
            Connection::Http(c) => ConnectionKind::Http(Arc::new(HttpConnectionPlan {
                base_url: self.text(&c.base_url, scope),
                headers: self.headers(&c.headers, scope),
                connect_timeout: self.fixed_duration(c.connect_timeout.as_ref(), CONNECT_TIMEOUT, Zero::Refused),
                timeout: self.fixed_duration(c.timeout.as_ref(), REQUEST_TIMEOUT, Zero::Refused),
                max_answer: self.size(c.max_answer.as_ref()),
            })),
            Connection::Sql(c) => ConnectionKind::Sql(Arc::new(SqlConnectionPlan {
                url: self.sql_url(&c.url, scope),
                pool_size: match &c.pool_size {
                    Some(n) if n.value == 0 => {
                        self.error(n.at, "`pool_size` must be at least 1");
                        DEFAULT_POOL_SIZE
                    }
                    Some(n) => n.value,
                    None => DEFAULT_POOL_SIZE,
                },
                connect_timeout: self.fixed_duration(c.connect_timeout.as_ref(), CONNECT_TIMEOUT, Zero::Refused),
                timeout: self.fixed_duration(c.timeout.as_ref(), REQUEST_TIMEOUT, Zero::Refused),
            })),
        }
    }

    /// A database URL. One known now (no template, or one that reads only `vars` and `env`) is
    /// checked now, so that `validate` catches a wrong scheme or `sslmode` at its place.
    fn sql_url(&mut self, url: &Text, scope: &Scope) -> ValuePlan {
        let (plan, known) = match is_template(&url.value) {
            false => (self.text(url, scope), Some(url.value.clone())),
            true => match self.template(url, scope) {
                Some(compiled) => {
                    let plan = ValuePlan::Template(compiled.template);
                    let known = match compiled.fixed {
                        true => self.render_fixed(&plan, url.at).map(|v| match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        }),
                        false => None,
                    };
                    (plan, known)
                }
                None => (ValuePlan::Literal(serde_json::Value::Null), None),
            },
        };
        if let Some(Err(e)) = known.map(|u| crate::proto::sql::Target::parse(&u)) {
            match is_template(&url.value) {
                true => self.error(url.at, format!("this template renders to an {e}")),
                false => self.error(url.at, e.to_string()),
            };
        }
        plan
    }

    /// `max_answer`: a size with a unit (`16MiB`, `64KiB`, `1GB`) or bytes, more than zero.
    fn size(&mut self, size: Option<&Spanned<String>>) -> u64 {
        let Some(size) = size else { return MAX_ANSWER };
        match size.value.trim().parse::<bytesize::ByteSize>() {
            Ok(parsed) if parsed.as_u64() > 0 => parsed.as_u64(),
            Ok(_) => {
                self.error(size.at, "`max_answer` must be more than zero")
                    .width(size.value.len());
                MAX_ANSWER
            }
            Err(e) => {
                self.error(size.at, format!("`{}` is not a size: {e}", size.value))
                    .width(size.value.len())
                    .help("write a number with a unit: `16MiB`, `64KiB`, `1GB` (or bytes: `65536`)");
                MAX_ANSWER
            }
        }
    }

    pub(super) fn headers(&mut self, headers: &Entries<Text>, scope: &Scope) -> Vec<(String, ValuePlan)> {
        headers
            .iter()
            .map(|(name, value)| (name.value.clone(), self.text(value, scope)))
            .collect()
    }

    pub(super) fn client_info(&mut self, info: Option<&ClientInfo>, scope: &Scope) -> ClientInfoPlan {
        let Some(info) = info else {
            return ClientInfoPlan::default();
        };
        ClientInfoPlan {
            name: info.name.as_ref().map(|n| self.text(n, scope)),
            version: info.version.as_ref().map(|v| self.text(v, scope)),
        }
    }

    /// The connection of `kind` a step uses: the one it names, or the only one of that kind, as
    /// the handle `pick` takes out of a connection of that kind.
    pub(super) fn resolve_connection<P>(
        &mut self,
        named: Option<&Name>,
        kind: &str,
        step_kind: &str,
        at: Pos,
        pick: fn(&ConnectionKind) -> Option<&Arc<P>>,
    ) -> Option<Conn<P>> {
        let handle = |c: &ConnectionPlan| {
            pick(&c.kind).map(|plan| Conn {
                name: c.name.as_str().into(),
                plan: plan.clone(),
            })
        };
        if let Some(name) = named {
            let Some(connection) = self.connections.iter().find(|c| c.name == name.value) else {
                let names = self.connections.iter().map(|c| c.name.as_str());
                let help = suggest::did_you_mean(&name.value, names.clone()).unwrap_or_else(|| declared(names));
                self.error(name.at, format!("unknown connection `{}`", name.value))
                    .width(name.value.len())
                    .help(help);
                return None;
            };
            let Some(conn) = handle(connection) else {
                let actual = connection.kind.key();
                self.error(
                    name.at,
                    format!(
                        "`{}` is {} `{actual}` connection, but {} `{step_kind}` step needs {} `{kind}` one",
                        name.value,
                        article(actual),
                        article(step_kind),
                        article(kind)
                    ),
                )
                .width(name.value.len());
                return None;
            };
            return Some(conn);
        }
        let candidates: Vec<String> = (self.connections.iter())
            .filter(|c| pick(&c.kind).is_some())
            .map(|c| c.name.clone())
            .collect();
        match candidates.as_slice() {
            [only] => self.connections.iter().find(|c| &c.name == only).and_then(handle),
            [] => {
                self.error(
                    at,
                    format!(
                        "{} `{step_kind}` step needs {} `{kind}` connection, and the scenario declares none",
                        article(step_kind),
                        article(kind)
                    ),
                )
                .width(step_kind.len())
                .help(format!("declare one: `connections: {{ name: {{ {kind}: {{ … }} }} }}`"));
                None
            }
            several => {
                let list = several.join("`, `");
                self.error(
                    at,
                    format!("this `{step_kind}` step could use any of the `{kind}` connections `{list}`"),
                )
                .width(step_kind.len())
                .help("name one with `connection: NAME`");
                None
            }
        }
    }
}

fn declared<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<_> = names.collect();
    if names.is_empty() {
        "the scenario declares no connections".into()
    } else {
        format!("declared connections: {}", names.join(", "))
    }
}

/// `a` or `an` before a key as it is read aloud: "an `sql` step", "a `call` step".
fn article(word: &str) -> &'static str {
    let spelled_out = ["http", "mcp", "sql"].contains(&word);
    if spelled_out || word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
