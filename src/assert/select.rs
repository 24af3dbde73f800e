//! Running a compiled JSONPath over a result document.

use std::panic::{AssertUnwindSafe, catch_unwind};

use jsonpath_rust::query::js_path_process;
use serde_json::Value;

use crate::plan::{JsonPath, Member};

/// The value a JSONPath selects: `None` when it selects nothing, the value when it selects one,
/// an array of them when it selects several.
///
/// A query the library cannot answer counts as selecting nothing. The query runs behind
/// `catch_unwind`, so a fault in the JSONPath library on some odd document fails the
/// assertion instead of the client task.
pub fn select(path: &JsonPath, doc: &Value) -> Option<Value> {
    if let Some(members) = &path.singular {
        return walk(members, doc).cloned();
    }
    let found = catch_unwind(AssertUnwindSafe(|| {
        js_path_process(&path.query, doc).map(|refs| refs.into_iter().map(|r| r.val.clone()).collect::<Vec<_>>())
    }));
    let mut values = match found {
        Ok(Ok(values)) => values,
        Ok(Err(_)) | Err(_) => return None,
    };
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(Value::Array(values)),
    }
}

/// The one value a singular path selects, as RFC 9535 §2.3.1–2.3.3 define its steps: a name
/// selects nothing but an object's member, an index nothing but an array's element.
fn walk<'d>(members: &[Member], doc: &'d Value) -> Option<&'d Value> {
    members.iter().try_fold(doc, |value, member| match member {
        Member::Name(name) => value.as_object()?.get(name),
        Member::Index(index) => {
            let array = value.as_array()?;
            let at = if *index < 0 {
                array.len().checked_sub(usize::try_from(index.unsigned_abs()).ok()?)?
            } else {
                usize::try_from(*index).ok()?
            };
            array.get(at)
        }
    })
}
