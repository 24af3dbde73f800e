//! JSON text into values without losing a number.
//!
//! PostgreSQL renders `numeric` exactly (`12345678901234567890.123`), but a JSON number in
//! serde_json is an i64, a u64 or an f64. A number whose decimal value survives that trip comes
//! back as a number (`19.90` reads as `19.9`: the same value); one that would not comes back as a
//! string holding its exact digits, never as a silently different number. serde_json's
//! `arbitrary_precision` would do this for every number in the program, and breaks the untagged
//! enums that rmcp parses messages with.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

/// Parses JSON text, keeping every number exact.
#[cfg(test)]
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let raw: &RawValue = serde_json::from_str(text)?;
    value(raw)
}

/// The values of a JSON object's fields, in order, every number exact. Keys are left out: a
/// row's keys are its column names, which may repeat.
pub fn field_values(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    let Fields(fields) = serde_json::from_str(text)?;
    fields.into_iter().map(|(_, raw)| value(raw)).collect()
}

fn value(raw: &RawValue) -> Result<Value, serde_json::Error> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => {
            let Fields(fields) = serde_json::from_str(text)?;
            let mut map = Map::with_capacity(fields.len());
            for (key, field) in fields {
                map.insert(key, value(field)?);
            }
            Ok(Value::Object(map))
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            items.into_iter().map(value).collect::<Result<_, _>>().map(Value::Array)
        }
        Some(b'-' | b'0'..=b'9') => Ok(number(text)),
        _ => serde_json::from_str(text),
    }
}

/// A number token as a JSON number when its value survives, else as its digits.
fn number(text: &str) -> Value {
    if let Ok(n) = text.parse::<i64>() {
        return n.into();
    }
    if let Ok(n) = text.parse::<u64>() {
        return n.into();
    }
    if let Ok(f) = text.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
        && decimal(text) == decimal(&f.to_string())
    {
        return Value::Number(n);
    }
    Value::String(text.to_string())
}

/// A decimal number's value as (negative, significant digits, power of ten of the last digit),
/// so `1.10`, `1.1` and `11e-1` compare equal.
fn decimal(text: &str) -> (bool, String, i64) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut power = exponent.parse::<i64>().unwrap_or(0) - fraction.len() as i64;
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    power += (digits.len() - significant.len()) as i64;
    if significant.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, significant.to_string(), power)
}

/// An object's fields in order, values left raw.
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_that_survive_stay_numbers() {
        let v = parse(r#"{"a": 1, "b": -7, "c": 0.1, "d": 19.90, "e": 1e300, "f": 18446744073709551615, "g": 0.000}"#)
            .unwrap();
        assert_eq!(
            v,
            json!({"a": 1, "b": -7, "c": 0.1, "d": 19.9, "e": 1e300, "f": u64::MAX, "g": 0.0})
        );
    }

    #[test]
    fn numbers_that_would_change_keep_their_digits() {
        let v = parse(r#"[12345678901234567890.123, 3.14159265358979323846, 184467440737095516150]"#).unwrap();
        assert_eq!(
            v,
            json!([
                "12345678901234567890.123",
                "3.14159265358979323846",
                "184467440737095516150"
            ])
        );
    }

    #[test]
    fn objects_keep_their_order_and_nest() {
        let v = parse(r#"{"z": {"y": [1, {"x": null}]}, "a": "s", "m": true}"#).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(v["z"]["y"][1], json!({"x": null}));
    }

    #[test]
    fn field_values_keep_repeated_keys() {
        let values = field_values(r#"{"a": 1, "a": 12345678901234567890.5, "b": [2]}"#).unwrap();
        assert_eq!(values, [json!(1), json!("12345678901234567890.5"), json!([2])]);
    }

    #[test]
    fn decimals_compare_by_value() {
        assert_eq!(decimal("1.10"), decimal("1.1"));
        assert_eq!(decimal("11e-1"), decimal("1.1"));
        assert_eq!(decimal("100"), decimal("1e2"));
        assert_eq!(decimal("-0.0"), decimal("0"));
        assert_ne!(decimal("-1"), decimal("1"));
    }
}
