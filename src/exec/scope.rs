//! A client's template scope: one minijinja object that the client updates as it goes. A value
//! is converted for templates once, when it changes, not on every render; a render only looks up
//! the names its template uses.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use minijinja::Value as Jinja;
use minijinja::value::{Enumerator, Object, ObjectRepr, Serde};
use serde_json::Value;
use tokio::time::Instant;

use crate::duration_text::millis;

/// Every name in scope and its value.
#[derive(Debug, Default)]
pub struct Scope {
    // Only the client's own task touches it; the lock is there because minijinja objects must be
    // `Sync`, and it is never contended.
    entries: Mutex<BTreeMap<String, Jinja>>,
}

impl Scope {
    /// Puts `name` in scope, or replaces its value.
    pub fn set(&self, name: &str, value: Jinja) {
        let mut entries = self.lock();
        match entries.get_mut(name) {
            Some(slot) => *slot = value,
            None => {
                entries.insert(name.to_string(), value);
            }
        }
    }

    /// Takes `name` out of scope.
    pub fn remove(&self, name: &str) {
        self.lock().remove(name);
    }

    /// The scope as the value templates render with.
    pub fn value(self: &Arc<Self>) -> Jinja {
        Jinja::from_dyn_object(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Jinja>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Object for Scope {
    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Jinja> {
        self.lock().get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().keys().map(|k| Jinja::from(k.as_str())).collect())
    }
}

/// A JSON document (`result`, `last`) as templates see it: converted a member at a time, when a
/// template reads it, so that an answer no template reads is never converted, and a JSONPath
/// assertion reads the document itself.
#[derive(Debug)]
pub struct Json(Arc<Value>);

impl Json {
    /// The document as a template value.
    pub fn value(document: Arc<Value>) -> Jinja {
        match &*document {
            Value::Object(_) | Value::Array(_) => Jinja::from_object(Json(document)),
            scalar => Jinja::from(Serde(scalar)),
        }
    }
}

impl Object for Json {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match &*self.0 {
            Value::Array(_) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let member = match &*self.0 {
            Value::Object(members) => members.get(key.as_str()?)?,
            Value::Array(items) => items.get(key.as_usize()?)?,
            _ => return None,
        };
        Some(Jinja::from(Serde(member)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match &*self.0 {
            Value::Object(members) => Enumerator::Values(members.keys().map(|k| Jinja::from(k.as_str())).collect()),
            Value::Array(items) => Enumerator::Seq(items.len()),
            _ => Enumerator::Empty,
        }
    }
}

/// `client`: who the client is, and how long it has run, read when a template asks.
#[derive(Debug)]
pub struct ClientInfo {
    pub group: Arc<str>,
    pub id: u64,
    pub index: u64,
    pub started: Instant,
}

impl Object for ClientInfo {
    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Jinja> {
        Some(match key {
            "group" => Jinja::from(&*self.group),
            "id" => Jinja::from(self.id),
            "index" => Jinja::from(self.index),
            "elapsed_ms" => Jinja::from(millis(self.started.elapsed())),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["group", "id", "index", "elapsed_ms"])
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn render(source: &str, scope: &Arc<Scope>) -> String {
        let env = minijinja::Environment::new();
        env.render_str(source, scope.value()).unwrap()
    }

    #[test]
    fn names_are_set_replaced_and_removed() {
        let scope = Arc::new(Scope::default());
        scope.set("a", Jinja::from(1));
        scope.set("b", Jinja::from(Serde(serde_json::json!({"x": [1, 2]}))));
        assert_eq!(render("{{ a }} {{ b.x[1] }} {{ b | length }}", &scope), "1 2 1");
        scope.set("a", Jinja::from("two"));
        scope.remove("b");
        assert_eq!(render("{{ a }} {{ b is defined }}", &scope), "two False");
    }

    #[test]
    fn a_document_reads_like_its_conversion() {
        let document = serde_json::json!({
            "status": 200,
            "result": {"content": [{"type": "text", "text": "hi"}], "isError": false},
            "tags": ["a", "b", "c"],
            "none": null,
        });
        let scope = Arc::new(Scope::default());
        scope.set("lazy", Json::value(Arc::new(document.clone())));
        scope.set("eager", Jinja::from(Serde(&document)));
        for template in [
            "{{ X.status }} {{ X.result.content[0].text }} {{ X.tags[-1] }} {{ X.tags | length }}",
            "{{ X | length }} {{ X.none is none }} {{ X.missing is defined }} {{ X.tags | join(',') }}",
            "{% for k, v in X | items %}{{ k }}={{ v | tojson }};{% endfor %}",
            "{{ X | tojson }} {{ X.tags | tojson }} {{ X.result.isError }} {{ 'status' in X }}",
            "{{ X.tags == ['a', 'b', 'c'] }} {{ X.tags | first }} {{ X | list }}",
        ] {
            let lazy = render(&template.replace('X', "lazy"), &scope);
            assert_eq!(lazy, render(&template.replace('X', "eager"), &scope), "{template}");
        }
        assert_eq!(Json::value(Arc::new(Value::from(5))), Jinja::from(5));
    }

    #[tokio::test(start_paused = true)]
    async fn the_client_reads_its_elapsed_time_when_asked() {
        let scope = Arc::new(Scope::default());
        let info = ClientInfo {
            group: "g".into(),
            id: 3,
            index: 7,
            started: Instant::now(),
        };
        scope.set("client", Jinja::from_object(info));
        tokio::time::advance(Duration::from_millis(250)).await;
        assert_eq!(
            render(
                "{{ client.group }} {{ client.id }} {{ client.index }} {{ client.elapsed_ms }}",
                &scope
            ),
            "g 3 7 250.0"
        );
    }
}
