//! Rules for where the console may send credentials, and the hook that watches every request the cloud
//! clients send.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use crate::error::ApiError;
use crate::model::Cloud;

/// The base URL rule for an account: [`validate_base_url`], except that a OneNET account may use plain
/// http to any host when the user chose it explicitly. OneNET documents only `http://ota.heclouds.com`; its
/// token is time-limited and the access key itself never travels, so plain http there is an informed choice
/// rather than a leak of the secret. Vicohome and Quectel send a password to sign in: never over plain http.
pub fn validate_account_url(
    cloud: Cloud,
    raw: &str,
    allow_http: bool,
) -> Result<url::Url, ApiError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| ApiError::validation(format!("“{raw}” is not a valid URL: {e}")))?;
    if url.scheme() != "http" || is_loopback(&url) {
        return validate_base_url(raw);
    }
    let host = url.host_str().unwrap_or("this host").to_string();
    match (cloud, allow_http) {
        (Cloud::Onenet, true) => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(ApiError::validation("The URL has no host."));
            }
            refuse_user_info(&url)?;
            Ok(url)
        }
        (Cloud::Onenet, false) => Err(ApiError::validation(format!(
            "Plain http to {host} needs your explicit consent: OneNET traffic would travel unencrypted."
        ))
        .with_hint(
            "Use https://, or allow plain http for this account (`--allow-http`, or “Allow plain http” in Settings). \
             The access key is never sent, but anyone on the network can read the time-limited token and the packages.",
        )),
        (other, _) => Err(ApiError::validation(format!(
            "Plain http is refused for {host}: the {} password would travel unencrypted.",
            other.label()
        ))
        .with_hint(
            "Use the https:// address of the cloud (plain http is possible only for OneNET accounts, and for 127.0.0.1/localhost).",
        )),
    }
}

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
    refuse_user_info(&url)?;
    Ok(url)
}

/// `https://user:pass@host` would store a credential in the database in clear text and send it with
/// every request: the user name and secret have their own fields.
fn refuse_user_info(url: &url::Url) -> Result<(), ApiError> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(());
    }
    Err(ApiError::validation(
        "The base URL contains a user name or password.",
    )
    .with_hint("Remove the “user:password@” part: the user name and the secret have their own fields, and the secret goes to the keychain."))
}

pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Watches the HTTP requests the cloud clients send (a host's metrics: `otactl serve --metrics`). The
/// clients report each request once it has its answer's status, or failed without one.
pub trait RequestObserver: Send + Sync {
    /// A request to `host` ("host" or "host:port") ended: `status` is the HTTP status of its answer, `None`
    /// when none came (connection refused, timeout, TLS).
    fn request_done(&self, host: &str, status: Option<u16>);
}

/// One per process, like the request-rate limit the clients share: whatever sends a request — a refresh,
/// a campaign, a download — is seen.
static REQUEST_OBSERVER: RwLock<Option<Arc<dyn RequestObserver>>> = RwLock::new(None);

/// Sets (or with `None` removes) the process's request observer.
pub fn set_request_observer(observer: Option<Arc<dyn RequestObserver>>) {
    *REQUEST_OBSERVER.write().unwrap_or_else(|p| p.into_inner()) = observer;
}

/// Called by the cloud clients for every request they sent (see [`RequestObserver::request_done`]).
pub fn request_done(host: &str, status: Option<u16>) {
    let observer = REQUEST_OBSERVER
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(observer) = observer {
        observer.request_done(host, status);
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

    #[test]
    fn onenet_may_use_plain_http_only_when_chosen() {
        let err =
            validate_account_url(Cloud::Onenet, "http://ota.heclouds.com", false).unwrap_err();
        assert_eq!(err.code, crate::ErrorKind::Validation);
        assert!(err.hint.as_deref().unwrap_or("").contains("--allow-http"));
        let url = validate_account_url(Cloud::Onenet, "http://ota.heclouds.com", true).unwrap();
        assert_eq!(url.host_str(), Some("ota.heclouds.com"));
        // Consent to plain http is no licence for other schemes.
        assert!(validate_account_url(Cloud::Onenet, "ftp://ota.heclouds.com", true).is_err());
        // Clouds that sign in with a password never get plain http.
        for cloud in [Cloud::Vicohome, Cloud::Quectel] {
            let err = validate_account_url(cloud, "http://api-us.vicohome.io", true).unwrap_err();
            assert!(err.message.contains("password"), "{}", err.message);
        }
        assert!(validate_account_url(Cloud::Quectel, "http://127.0.0.1:9", false).is_ok());
    }

    #[test]
    fn urls_with_user_info_are_refused() {
        for raw in [
            "https://me:secret@api-us.vicohome.io",
            "https://me@api-us.vicohome.io",
            "http://u:p@127.0.0.1:9",
        ] {
            let err = validate_base_url(raw).unwrap_err();
            assert!(err.message.contains("user name or password"), "{raw}");
        }
        assert!(validate_account_url(Cloud::Onenet, "http://u:p@ota.heclouds.com", true).is_err());
    }
}
