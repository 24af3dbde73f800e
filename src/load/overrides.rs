//! `--vars FILE` and `--set NAME=VALUE`: values that replace a scenario's variable defaults.

use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::source::Source;
use crate::spec::{Entries, Node, Spanned};

/// Variable overrides, in the order they apply (later wins).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    entries: Vec<Override>,
}

/// One overriding value and where it came from.
#[derive(Debug, Clone)]
pub struct Override {
    /// The variable's name.
    pub name: String,
    /// The value, typed as YAML types it.
    pub value: Spanned<Node>,
    /// Where it was given: a vars file's text, or `--set` on the command line.
    pub origin: Origin,
}

/// Where an override was given.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A `--vars` file, with the key's position.
    File(Arc<Source>, Spanned<String>),
    /// The command line, with the flag (`--set`, `--secret`).
    CommandLine(&'static str),
    /// The runner itself (`--lab` points `mcp_url` and the like at the lab it started): applied
    /// where a scenario declares the name, ignored elsewhere, and beaten by `--set`.
    Runner,
}

impl Overrides {
    /// Adds every entry of a vars file (a YAML map of names to values).
    pub fn add_file(&mut self, path: &Path) -> Result<(), Diagnostic> {
        let source = Arc::new(super::read::read(path)?);
        let vars: Entries<Spanned<Node>> = super::yaml::parse(&source)?;
        for (key, value) in vars.0 {
            self.entries.push(Override {
                name: key.value.clone(),
                value,
                origin: Origin::File(source.clone(), key),
            });
        }
        Ok(())
    }

    /// Adds `NAME=VALUE` from `--set`; the value is typed as a YAML scalar (`3` is a number).
    pub fn add_assignment(&mut self, assignment: &str) -> Result<(), String> {
        let (name, raw) = assignment
            .split_once('=')
            .ok_or_else(|| format!("`--set {assignment}`: expected NAME=VALUE"))?;
        let name =
            variable_name(name).ok_or_else(|| format!("`--set {assignment}`: `{name}` is not a variable name"))?;
        self.push_command_line("--set", name, scalar(raw));
        Ok(())
    }

    /// Adds a `--secret` value: like `--set`, but always a string (a secret is text, and `0012`
    /// must not become 12).
    pub fn add_secret(&mut self, name: &str, value: &str) -> Result<(), String> {
        let name = variable_name(name).ok_or_else(|| format!("`--secret {name}`: `{name}` is not a variable name"))?;
        self.push_command_line("--secret", name, Node::String(value.to_string()));
        Ok(())
    }

    fn push_command_line(&mut self, flag: &'static str, name: &str, value: Node) {
        self.entries.push(Override {
            name: name.to_string(),
            value: Spanned::new(value, Default::default()),
            origin: Origin::CommandLine(flag),
        });
    }

    /// Adds a value the runner supplies, applying after every vars file and before `--set`.
    pub fn add_supplied(&mut self, name: &str, value: &str) {
        let at = self
            .entries
            .iter()
            .position(|o| matches!(o.origin, Origin::CommandLine(_)))
            .unwrap_or(self.entries.len());
        let value = Spanned::new(Node::String(value.to_string()), Default::default());
        let origin = Origin::Runner;
        self.entries.insert(
            at,
            Override {
                name: name.to_string(),
                value,
                origin,
            },
        );
    }

    /// The overrides in the order they apply.
    pub fn iter(&self) -> impl Iterator<Item = &Override> {
        self.entries.iter()
    }

    /// Replaces the defaults of the variables a scenario declares; returns the names it applied.
    pub fn apply(&self, vars: &mut Entries<Spanned<Node>>) -> Vec<&str> {
        let mut applied = Vec::new();
        for o in &self.entries {
            if let Some((_, value)) = vars.0.iter_mut().find(|(k, _)| k.value == o.name) {
                // Keep the declaration's position, so errors in the value point at the scenario.
                *value = Spanned::new(o.value.value.clone(), value.at);
                applied.push(o.name.as_str());
            }
        }
        applied
    }
}

/// `name` trimmed, when it is a variable name (letters, digits, `_`).
fn variable_name(name: &str) -> Option<&str> {
    let name = name.trim();
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(name)
}

/// A command-line value typed the way YAML types a plain scalar; anything that is not a scalar
/// (or not valid YAML) stays the string that was typed.
fn scalar(raw: &str) -> Node {
    let options = serde_saphyr::options! { strict_booleans: true };
    match serde_saphyr::from_str_with_options::<Node>(raw, options) {
        Ok(node @ (Node::Null | Node::Bool(_) | Node::Number(_) | Node::String(_))) if !raw.trim().is_empty() => node,
        _ => Node::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_are_typed_like_yaml_scalars() {
        assert_eq!(scalar("3"), Node::Number(3.into()));
        assert_eq!(scalar("true"), Node::Bool(true));
        assert_eq!(scalar("no"), Node::String("no".into()));
        assert_eq!(scalar("3s"), Node::String("3s".into()));
        assert_eq!(scalar("[1, 2"), Node::String("[1, 2".into()));
        assert_eq!(scalar("a: b"), Node::String("a: b".into()));
        assert_eq!(scalar(""), Node::String("".into()));
    }

    #[test]
    fn set_needs_a_name_and_an_equals_sign() {
        let mut o = Overrides::default();
        assert!(o.add_assignment("novalue").is_err());
        assert!(o.add_assignment("bad name=1").is_err());
        assert!(o.add_assignment("url=http://x/?a=b").is_ok());
        assert_eq!(
            o.iter().next().unwrap().value.value,
            Node::String("http://x/?a=b".into())
        );
    }

    #[test]
    fn secrets_are_strings_from_the_command_line() {
        let mut o = Overrides::default();
        o.add_secret("pin", "0012").unwrap();
        assert!(o.add_secret("bad name", "x").is_err());
        let entry = o.iter().next().unwrap();
        assert_eq!(entry.value.value, Node::String("0012".into()));
        assert!(matches!(entry.origin, Origin::CommandLine("--secret")));
    }

    #[test]
    fn supplied_values_lose_to_set() {
        let mut o = Overrides::default();
        o.add_assignment("mcp_url=from-set").unwrap();
        o.add_supplied("mcp_url", "from-lab");
        let order: Vec<_> = o.iter().map(|e| e.value.value.clone()).collect();
        assert_eq!(
            order,
            [Node::String("from-lab".into()), Node::String("from-set".into())]
        );
    }
}
