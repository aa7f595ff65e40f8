//! Tolerant field decoders for vendor JSON: clouds send numbers as strings, booleans as 0/1, and floats
//! where the docs say integers. A value that cannot be understood decodes as absent, never as an error,
//! so one odd field cannot hide a whole device list.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.round() as i64)
            }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.round() as i64)
            })
        }
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

pub fn bool_of(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(_) => int_of(value).map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "online" => Some(true),
            "false" | "0" | "no" | "offline" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

pub fn string_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.as_ref().and_then(int_of))
}

pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.as_ref().and_then(bool_of))
}

pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(string_of))
}

/// A list that may be absent or null.
pub fn vec_or_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Battery as the percentage the model keeps (0–100).
pub fn battery_percent(raw: Option<i64>) -> Option<u8> {
    raw.map(|b| b.clamp(0, 100) as u8)
}

/// Signal strength as the model keeps it.
pub fn signal(raw: Option<i64>) -> Option<i32> {
    raw.map(|s| s.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_in_many_shapes() {
        assert_eq!(int_of(&json!(3)), Some(3));
        assert_eq!(int_of(&json!("-103")), Some(-103));
        assert_eq!(int_of(&json!(4.6)), Some(5));
        assert_eq!(int_of(&json!(" 7 ")), Some(7));
        assert_eq!(int_of(&json!("x")), None);
        assert_eq!(int_of(&json!(null)), None);
    }

    #[test]
    fn booleans_in_many_shapes() {
        assert_eq!(bool_of(&json!(true)), Some(true));
        assert_eq!(bool_of(&json!(0)), Some(false));
        assert_eq!(bool_of(&json!(1)), Some(true));
        assert_eq!(bool_of(&json!("false")), Some(false));
        assert_eq!(bool_of(&json!({})), None);
    }

    #[test]
    fn clamps() {
        assert_eq!(battery_percent(Some(140)), Some(100));
        assert_eq!(battery_percent(Some(-3)), Some(0));
        assert_eq!(battery_percent(None), None);
    }
}
