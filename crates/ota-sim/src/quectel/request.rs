//! Reading a request in the one form its endpoint takes: query parameters, a form body or a JSON body
//! (each with its documented names), and the device it names. What does not fit is code 400 "parameter
//! error".

use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use super::{failure, BAD_REQUEST, NOT_FOUND};
use crate::fleet::Cloud;
use crate::gateway::CloudReply;
use crate::world::World;

// The query parameters naming the device, per GET endpoint: (product key, device key).
pub(super) const PLAN_QUERY: (&str, &str) = ("pk", "dk");
pub(super) const AUTO_QUERY: (&str, &str) = ("productKey", "deviceKey");

/// `a=1&b=2` with `+` as space and percent escapes.
pub(crate) fn parse_urlencoded(raw: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The query string's parameters (GET endpoints take only these; a body is ignored).
pub(crate) fn query_params(query: Option<&str>) -> HashMap<String, String> {
    query.map(parse_urlencoded).unwrap_or_default()
}

/// Code 400 "parameter error" with what was wrong.
pub(crate) fn parameter_error(detail: impl std::fmt::Display) -> CloudReply {
    failure(BAD_REQUEST, &format!("parameter error: {detail}"))
}

/// The media type without parameters (`application/json;charset=UTF-8` → `application/json`).
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
}

fn require_media_type(headers: &HeaderMap, wanted: &str) -> Result<(), CloudReply> {
    match media_type(headers) {
        Some(found) if found == wanted => Ok(()),
        found => Err(parameter_error(format!(
            "Content-Type must be {wanted}, not {}",
            found.as_deref().unwrap_or("none")
        ))),
    }
}

/// A form body (`application/x-www-form-urlencoded`), where the endpoint takes one.
pub(crate) fn form_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HashMap<String, String>, CloudReply> {
    require_media_type(headers, "application/x-www-form-urlencoded")?;
    let text =
        std::str::from_utf8(body).map_err(|_| parameter_error("the form body is not UTF-8"))?;
    Ok(parse_urlencoded(text.trim()))
}

/// A JSON body (`application/json`) read into the endpoint's own request struct: the documented names
/// and types, required fields present.
pub(crate) fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, CloudReply> {
    require_media_type(headers, "application/json")?;
    serde_json::from_slice(body).map_err(parameter_error)
}

/// A parameter that must be present and not blank.
pub(crate) fn required<'a>(
    params: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, CloudReply> {
    params
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| parameter_error(format!("{name} is required")))
}

/// The device a request names, checked against the fleet.
pub(super) fn named_device(
    world: &World,
    pk: &str,
    dk: &str,
) -> Result<(String, String), CloudReply> {
    match world.device(dk) {
        Some(d) if d.cloud == Cloud::Quectel && d.product_key.as_deref() == Some(pk) => {
            Ok((pk.to_string(), dk.to_string()))
        }
        _ => Err(failure(NOT_FOUND, "device not found")),
    }
}

/// The device a GET endpoint names with its two query parameters (`names`: product key, device key).
pub(super) fn queried_device(
    world: &World,
    params: &HashMap<String, String>,
    names: (&str, &str),
) -> Result<(String, String), CloudReply> {
    let pk = required(params, names.0)?;
    let dk = required(params, names.1)?;
    named_device(world, pk, dk)
}

/// The device key a query names, for the call log and device-targeted faults.
pub(super) fn queried_target(
    params: &HashMap<String, String>,
    names: (&str, &str),
) -> Option<String> {
    params
        .get(names.1)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
        headers
    }

    #[test]
    fn form_bodies_need_the_form_content_type() {
        let form = form_body(
            &content_type("application/x-www-form-urlencoded"),
            b"email=a%40b.c&pwd=p+w%2Bd",
        )
        .unwrap();
        assert_eq!(form["email"], "a@b.c");
        assert_eq!(form["pwd"], "p w+d");
        let json = form_body(&content_type("application/json"), br#"{"email":"x"}"#);
        let refused = json.unwrap_err();
        assert!(String::from_utf8_lossy(&refused.body).contains("parameter error"));
        assert!(form_body(&HeaderMap::new(), b"email=x").is_err());
    }

    #[test]
    fn json_bodies_need_the_json_content_type_and_the_documented_names() {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Keys {
            product_key: String,
        }
        let keys: Keys = json_body(
            &content_type("application/json;charset=UTF-8"),
            br#"{"productKey":"p"}"#,
        )
        .unwrap();
        assert_eq!(keys.product_key, "p");
        assert!(json_body::<Keys>(&content_type("application/json"), br#"{"pk":"p"}"#).is_err());
        assert!(json_body::<Keys>(
            &content_type("application/x-www-form-urlencoded"),
            b"productKey=p"
        )
        .is_err());
    }
}
