//! Rules for where the console may send credentials.

use std::net::IpAddr;

use crate::error::ApiError;

/// An account's base URL must be https, or plain http to a loopback address (tests, a local simulator).
/// Anything else would send credentials in clear text over a network.
pub fn validate_base_url(raw: &str) -> Result<url::Url, ApiError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| ApiError::validation(format!("“{raw}” is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(ApiError::validation(format!(
            "Plain http is refused for {}: credentials would travel unencrypted.",
            url.host_str().unwrap_or("this host")
        ))
        .with_hint(
            "Use the https:// address of the cloud (http is allowed only for 127.0.0.1/localhost).",
        )),
        other => {
            return Err(ApiError::validation(format!(
                "Unsupported URL scheme “{other}”; use https://"
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::validation("The URL has no host."));
    }
    Ok(url)
}

pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_allowed() {
        assert!(validate_base_url("https://api-us.vicohome.io").is_ok());
        assert!(validate_base_url("http://127.0.0.1:8080").is_ok());
        assert!(validate_base_url("http://localhost:1234/").is_ok());
        assert!(validate_base_url("http://[::1]:99").is_ok());
    }

    #[test]
    fn plain_http_elsewhere_is_refused() {
        let err = validate_base_url("http://ota.heclouds.com").unwrap_err();
        assert_eq!(err.code, crate::ErrorKind::Validation);
        assert!(err.message.contains("Plain http"));
        assert!(validate_base_url("http://10.0.0.5").is_err());
        assert!(validate_base_url("ftp://x").is_err());
        assert!(validate_base_url("not a url").is_err());
    }
}
