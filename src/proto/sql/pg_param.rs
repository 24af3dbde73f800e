//! A JSON value bound to a PostgreSQL placeholder, in the server's text form.
//!
//! The text form lets the server parse every type it knows (numeric, uuid, timestamptz,
//! interval, inet, enums…) with its own input functions, so none of them needs a Rust type here.
//! Mismatches the server would report without naming the parameter (an object for an `int4`, a
//! fraction for an integer) are caught first, with the parameter's number.

use std::error::Error;

use bytes::BytesMut;
use serde_json::Value;
use tokio_postgres::types::{Format, IsNull, Kind, ToSql, Type, to_sql_checked};

use super::SqlError;

/// One parameter, ready to send: its text, or `None` for NULL.
#[derive(Debug)]
pub struct Param(Option<String>);

impl Param {
    /// Binds the 1-based parameter `index` to a placeholder of type `ty`.
    pub fn new(index: usize, value: &Value, ty: &Type) -> Result<Self, SqlError> {
        text_form(value, ty).map(Self).map_err(|why| SqlError::Bind {
            index,
            message: format!("`${index}` is `{}` here: {why}", ty.name()),
        })
    }
}

/// The server's input text for `value` as a `ty` (`None`: NULL), or why it does not fit one.
fn text_form(value: &Value, ty: &Type) -> Result<Option<String>, String> {
    if value.is_null() {
        return Ok(None);
    }
    if let Kind::Domain(inner) = ty.kind() {
        return text_form(value, inner);
    }
    if matches!(*ty, Type::JSON | Type::JSONB) {
        return Ok(Some(value.to_string()));
    }
    if let Kind::Array(_) = ty.kind() {
        return match value {
            Value::Array(items) => Ok(Some(array_literal(items))),
            Value::String(s) => Ok(Some(s.clone())),
            other => Err(format!("cannot bind {} to an array", describe(other))),
        };
    }
    match (value, ty) {
        (Value::Number(n), &(Type::INT2 | Type::INT4 | Type::INT8 | Type::OID)) if !n.is_f64() => {
            Ok(Some(n.to_string()))
        }
        (Value::String(s), &(Type::INT2 | Type::INT4 | Type::INT8 | Type::OID)) if s.trim().parse::<i64>().is_ok() => {
            Ok(Some(s.clone()))
        }
        (other, &(Type::INT2 | Type::INT4 | Type::INT8 | Type::OID)) => {
            Err(format!("cannot bind {} to an integer", describe(other)))
        }
        (Value::Bool(_) | Value::Array(_) | Value::Object(_), &(Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC)) => {
            Err(format!("cannot bind {} to a number", describe(value)))
        }
        (Value::Bool(b), &Type::BOOL) => Ok(Some(b.to_string())),
        (Value::Number(_) | Value::Array(_) | Value::Object(_), &Type::BOOL) => {
            Err(format!("cannot bind {} to a boolean", describe(value)))
        }
        (Value::String(s), _) => Ok(Some(s.clone())),
        (Value::Number(_) | Value::Bool(_), _) => Ok(Some(value.to_string())),
        (Value::Array(_) | Value::Object(_), _) if is_text(ty) => Ok(Some(value.to_string())),
        (other, _) => Err(format!(
            "cannot bind {}; only JSON, json(b) and text take one",
            describe(other)
        )),
    }
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// A value as an error message names it.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("the string {:?}", s),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        Value::Null => "null".into(),
    }
}

/// A JSON list as a PostgreSQL array literal: `{1,"a b",NULL,{2,3}}`.
fn array_literal(items: &[Value]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|item| match item {
            Value::Null => "NULL".into(),
            Value::Array(inner) => array_literal(inner),
            Value::String(s) => quoted(s),
            Value::Object(_) => quoted(&item.to_string()),
            Value::Number(_) | Value::Bool(_) => item.to_string(),
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl ToSql for Param {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match &self.0 {
            None => Ok(IsNull::Yes),
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bound(value: Value, ty: Type) -> Result<Option<String>, String> {
        Param::new(1, &value, &ty).map(|p| p.0).map_err(|e| e.to_string())
    }

    #[test]
    fn scalars_bind_as_their_text() {
        assert_eq!(bound(json!(42), Type::INT4), Ok(Some("42".into())));
        assert_eq!(bound(json!("42"), Type::INT8), Ok(Some("42".into())));
        assert_eq!(bound(json!(1.5), Type::NUMERIC), Ok(Some("1.5".into())));
        assert_eq!(bound(json!(true), Type::BOOL), Ok(Some("true".into())));
        assert_eq!(bound(json!(7), Type::TEXT), Ok(Some("7".into())));
        assert_eq!(
            bound(json!("2026-11-25T10:00:00Z"), Type::TIMESTAMPTZ),
            Ok(Some("2026-11-25T10:00:00Z".into()))
        );
        assert_eq!(bound(Value::Null, Type::UUID), Ok(None));
    }

    #[test]
    fn json_binds_as_json_text() {
        assert_eq!(
            bound(json!({"a": [1, "x"]}), Type::JSONB),
            Ok(Some(r#"{"a":[1,"x"]}"#.into()))
        );
        assert_eq!(bound(json!("hi"), Type::JSON), Ok(Some(r#""hi""#.into())));
        assert_eq!(bound(json!({"a": 1}), Type::TEXT), Ok(Some(r#"{"a":1}"#.into())));
    }

    #[test]
    fn lists_bind_as_array_literals() {
        assert_eq!(
            bound(json!([1, null, "a \"b\"\\", [2, 3]]), Type::TEXT_ARRAY),
            Ok(Some(r#"{1,NULL,"a \"b\"\\",{2,3}}"#.into()))
        );
    }

    #[test]
    fn mismatches_name_the_parameter_and_the_type() {
        assert_eq!(
            bound(json!({"a": 1}), Type::INT4),
            Err("parameter 1: `$1` is `int4` here: cannot bind an object to an integer".into())
        );
        assert!(bound(json!(1.5), Type::INT8).unwrap_err().contains("the number 1.5"));
        assert!(bound(json!("x"), Type::INT2).unwrap_err().contains("the string \"x\""));
        assert!(bound(json!(1), Type::BOOL).unwrap_err().contains("to a boolean"));
        assert!(
            bound(json!([1]), Type::UUID)
                .unwrap_err()
                .contains("cannot bind a list")
        );
    }
}
