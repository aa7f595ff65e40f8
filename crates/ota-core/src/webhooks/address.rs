//! Where a webhook may point: `https://`, or plain `http://` to a loopback address (127.0.0.0/8, ::1,
//! localhost) for tests and a receiver on the same machine. Anything else would send the events, and a
//! signature an eavesdropper could replay, unencrypted.

use crate::error::ApiError;
use crate::net::is_loopback;

/// Longest URL kept, in bytes.
const MAX_URL_BYTES: usize = 2_000;

/// The webhook URL as it is kept, or why it is refused.
pub fn validate_webhook_url(raw: &str) -> Result<url::Url, ApiError> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_BYTES {
        return Err(ApiError::validation(format!(
            "The webhook URL is longer than {MAX_URL_BYTES} bytes."
        )));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| ApiError::validation(format!("“{raw}” is not a valid URL: {e}")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::validation(format!("“{raw}” has no host.")));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(ApiError::validation(format!(
                "Plain http is refused for the webhook at {}: its events and signatures would travel unencrypted.",
                url.host_str().unwrap_or("this host")
            ))
            .with_hint(
                "Use an https:// URL (plain http is allowed only to 127.0.0.1, ::1 or localhost, for tests).",
            ))
        }
        other => {
            return Err(ApiError::validation(format!(
                "Unsupported URL scheme “{other}” for a webhook; use https://"
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::validation(
            "The webhook URL contains a user name or password.",
        )
        .with_hint("Remove the “user:password@” part: deliveries are signed with the webhook's secret instead."));
    }
    Ok(url)
}

/// The URL's scheme, host and port, without the path or query (which may carry a token): what the audit
/// log names.
pub fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "(invalid URL)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_to_loopback_only() {
        for ok in [
            "https://hooks.example.com/ota",
            "http://127.0.0.1:8080/hook",
            "http://127.8.9.10/hook",
            "http://[::1]:9000/",
            "http://localhost:3000/hook",
        ] {
            assert!(validate_webhook_url(ok).is_ok(), "{ok}");
        }
        for (bad, words) in [
            ("http://hooks.example.com/ota", "Plain http is refused"),
            ("http://10.0.0.5/hook", "Plain http is refused"),
            ("http://192.168.1.2:8080/", "Plain http is refused"),
            ("ftp://hooks.example.com", "Unsupported URL scheme"),
            ("hooks.example.com/ota", "not a valid URL"),
            ("https://me:pw@hooks.example.com", "user name or password"),
        ] {
            let err = validate_webhook_url(bad).unwrap_err();
            assert_eq!(err.code, crate::ErrorKind::Validation, "{bad}");
            assert!(err.message.contains(words), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn the_origin_leaves_out_the_path_and_query() {
        assert_eq!(
            origin_of("https://hooks.example.com:8443/T0/B1/secret-token?x=1"),
            "https://hooks.example.com:8443"
        );
    }
}
