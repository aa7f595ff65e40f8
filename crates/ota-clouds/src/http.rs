//! HTTP plumbing every cloud client shares: one client configuration, the base-URL rule, and the one place
//! where transport and HTTP-status failures become [`ApiError`]s a technician can act on.

use std::time::Duration;

use ota_core::{ApiError, ErrorKind};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

/// Sent with every request, so a cloud's operators can tell our traffic apart.
pub const USER_AGENT: &str = concat!("OTA-Console/", env!("CARGO_PKG_VERSION"));

/// The message of every answer that is not the JSON the client expected. It never quotes the body: a body
/// may echo a token or a password back.
pub const UNREADABLE_ANSWER: &str = "The cloud sent an answer that could not be read";

/// No API answer we read comes near this; a larger one is a misconfigured base URL (or worse).
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

const CERTIFICATE_REJECTED: &str = "its certificate was rejected";

/// How patient the shared client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Time to open a connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Time for a whole request, answer included.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The one client configuration: rustls, timeouts, user agent, no `Referer`, and redirects only within
/// the same origin.
pub fn client_builder(config: &HttpConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .user_agent(USER_AGENT)
        // A Referer would carry the previous URL, and OneNET's carry a token (`?token=`, `/download/ota_…`).
        .referer(false)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if attempt
                .previous()
                .last()
                .is_some_and(|from| may_follow_redirect(from, attempt.url()))
            {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
}

/// A redirect is followed only to the same origin (scheme, host and port): a 307/308 re-sends the body —
/// a sign-in form with the password — and every request carries the account's `Authorization`, so another
/// host must never get them, and https is never downgraded. A stopped redirect reaches the caller as the
/// 3xx it is, an error in words.
pub fn may_follow_redirect(from: &url::Url, to: &url::Url) -> bool {
    from.origin() == to.origin()
}

pub fn build_client(config: &HttpConfig) -> Result<reqwest::Client, ApiError> {
    client_builder(config).build().map_err(|err| {
        tracing::error!(error = %err, "the HTTP client could not be set up");
        ApiError::internal("The console could not set up its HTTP client.")
            .with_hint("Restart OTA Console; if this persists, report it with the log file.")
    })
}

/// An account's base URL, checked once: https, or plain http only to a loopback address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    url: url::Url,
    /// The URL as text without a trailing slash; endpoint paths are appended to it, so a base URL with a
    /// path prefix (a proxy) keeps it.
    prefix: String,
}

impl BaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Self::from_url(ota_core::net::validate_base_url(raw)?)
    }

    /// An account's base URL under its own rule (plain http only where the user chose it for OneNET).
    pub fn for_account(account: &ota_core::Account) -> Result<Self, ApiError> {
        Self::from_url(ota_core::net::validate_account_url(
            account.cloud,
            &account.base_url,
            account.allow_http,
        )?)
    }

    fn from_url(url: url::Url) -> Result<Self, ApiError> {
        let mut prefix = url.as_str().trim_end_matches('/').to_string();
        if url.query().is_some() || url.fragment().is_some() {
            let mut bare = url.clone();
            bare.set_query(None);
            bare.set_fragment(None);
            prefix = bare.as_str().trim_end_matches('/').to_string();
        }
        Ok(Self { url, prefix })
    }

    /// The full address of an endpoint path such as `/account/login`.
    pub fn endpoint(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.prefix)
        } else {
            format!("{}/{path}", self.prefix)
        }
    }

    /// "host" or "host:port", for messages.
    pub fn host_label(&self) -> String {
        let host = self.url.host_str().unwrap_or("the cloud");
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// True for a local simulator (127.0.0.1, ::1, localhost).
    pub fn is_loopback(&self) -> bool {
        ota_core::net::is_loopback(&self.url)
    }

    pub fn as_str(&self) -> &str {
        &self.prefix
    }
}

/// An answer read in full: status, the headers we use, and the body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: StatusCode,
    /// `Retry-After` in seconds, when the cloud sent one.
    pub retry_after_secs: Option<u32>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The HTTP-level failure of this answer, if it is one (see [`status_error`]).
    pub fn status_error(&self, host: &str) -> Option<ApiError> {
        status_error(self.status, self.retry_after_secs, host)
    }

    /// True when the body may be a vendor error envelope worth decoding despite a non-2xx status: clouds
    /// often pair a 4xx with their own error code, which says more than the status.
    pub fn may_carry_envelope(&self) -> bool {
        self.status.is_success()
            || (self.status.is_client_error() && self.status != StatusCode::TOO_MANY_REQUESTS)
    }
}

/// Sends a request and reads the whole answer. Transport failures become [`ApiError`]s here; the status is
/// left for the caller, who may find a vendor code in the body first.
pub async fn send(request: reqwest::RequestBuilder, host: &str) -> Result<RawResponse, ApiError> {
    crate::ratelimit::acquire(host).await;
    let sent = request.send().await;
    note_request(host, &sent);
    let mut response = sent.map_err(|err| transport_error(&err, host))?;
    let status = response.status();
    let retry_after_secs = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| transport_error(&err, host))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            tracing::warn!(host, "answer larger than {MAX_ANSWER_BYTES} bytes; dropped");
            return Err(unreadable_answer());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        retry_after_secs,
        body,
    })
}

/// Tells the process's request observer (`ota_core::net::request_done`, metrics) that a request to
/// `host` was sent and how it ended. Every request of the clients passes here: [`send`], and the two
/// package downloads (OneNET chunks, Quectel Bluetooth packages).
pub fn note_request(host: &str, sent: &Result<reqwest::Response, reqwest::Error>) {
    let status = sent.as_ref().ok().map(|r| r.status().as_u16());
    ota_core::net::request_done(host, status);
}

/// `Retry-After` as delta-seconds. (The HTTP-date form is rare for APIs; it is ignored and the retry
/// helper's own backoff applies.)
pub fn parse_retry_after(value: &str) -> Option<u32> {
    value.trim().parse::<u32>().ok()
}

/// Turns a failure below HTTP (DNS, TCP, TLS, timeout, a cut-off body) into an [`ApiError`].
pub fn transport_error(err: &reqwest::Error, host: &str) -> ApiError {
    // reqwest's own text names the URL, and OneNET's URLs carry a token: log only the causes below it.
    tracing::debug!(host, error = %causes_without_url(err), "transport failure");
    if is_certificate_failure(err) {
        return ApiError::new(
            ErrorKind::Offline,
            format!("Cannot reach {host}: {CERTIFICATE_REJECTED}."),
        )
        .with_hint(
            "Nothing was sent. Check the account's base URL and the computer's clock; a proxy or firewall \
             that intercepts HTTPS can also cause this.",
        );
    }
    if err.is_timeout() {
        return ApiError::new(
            ErrorKind::Offline,
            format!("Cannot reach {host}: no answer in time."),
        )
        .with_hint("Check the network connection (and any VPN or proxy), then retry.");
    }
    if err.is_builder() {
        return ApiError::internal(format!("The request to {host} could not be built."));
    }
    if err.is_body() || err.is_decode() {
        return ApiError::new(
            ErrorKind::Retryable,
            format!("The answer from {host} was cut off."),
        )
        .with_hint("Retry; the connection dropped while the cloud was answering.");
    }
    if err.is_redirect() {
        return ApiError::new(
            ErrorKind::Retryable,
            format!("{host} redirected the request too many times."),
        )
        .with_hint("Check the account's base URL and region.");
    }
    ApiError::new(ErrorKind::Offline, format!("Cannot reach {host}."))
        .with_hint("Check the network connection (and any VPN, proxy or firewall), then retry.")
}

/// What went wrong below reqwest (I/O, TLS, timeout), without the URL reqwest's own message starts with.
fn causes_without_url(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(current) = source {
        parts.push(current.to_string());
        source = current.source();
    }
    if parts.is_empty() {
        let kind = if err.is_timeout() {
            "timeout"
        } else if err.is_connect() {
            "connect"
        } else if err.is_redirect() {
            "redirect"
        } else if err.is_body() {
            "body"
        } else {
            "request"
        };
        parts.push(format!("{kind} error"));
    }
    parts.join(": ")
}

/// True for errors made by [`transport_error`] for a rejected certificate: retrying cannot help.
pub fn is_certificate_rejection(err: &ApiError) -> bool {
    err.code == ErrorKind::Offline && err.message.contains(CERTIFICATE_REJECTED)
}

fn is_certificate_failure(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        let text = format!("{current} {current:?}").to_ascii_lowercase();
        if text.contains("certificate") || text.contains("unknownissuer") {
            return true;
        }
        source = current.source();
    }
    false
}

/// The [`ApiError`] for an HTTP status that is not a success, or `None` for 2xx.
pub fn status_error(
    status: StatusCode,
    retry_after_secs: Option<u32>,
    host: &str,
) -> Option<ApiError> {
    if status.is_success() {
        return None;
    }
    let code = status.as_u16();
    let vendor = format!("HTTP {code}");
    let err = match code {
        429 => {
            let mut err = ApiError::new(
                ErrorKind::RateLimited,
                format!("{host} asked the console to slow down."),
            )
            .with_hint(match retry_after_secs {
                Some(secs) => format!("Wait {secs} s, then retry."),
                None => "Wait a minute, then retry.".to_string(),
            });
            err.retry_after_secs = retry_after_secs;
            err
        }
        401 | 403 => ApiError::new(
            ErrorKind::Auth,
            format!("{host} refused the account's credentials."),
        )
        .with_hint("Check the sign-in name and password (or key) in Settings, then retry."),
        404 => ApiError::new(
            ErrorKind::NotFound,
            format!("{host} does not offer this service at this address."),
        )
        .with_hint("Check the account's base URL and region in Settings."),
        500..=599 => {
            let mut err = ApiError::new(
                ErrorKind::Retryable,
                format!("{host} had a temporary failure."),
            )
            .with_hint("Retry in a minute.");
            err.retry_after_secs = retry_after_secs;
            err
        }
        300..=399 => ApiError::new(
            ErrorKind::Validation,
            format!("{host} redirected the request to another address; the console did not follow it."),
        )
        .with_hint(
            "Requests and credentials go only to the account's own address. Check its base URL in Settings \
             (the cloud may have moved to another region or host).",
        ),
        400..=499 => ApiError::new(
            ErrorKind::Validation,
            format!("{host} refused the request."),
        )
        .with_hint(
            "Check the account's settings; if they are right, report this with the log file.",
        ),
        _ => ApiError::new(ErrorKind::Retryable, UNREADABLE_ANSWER)
            .with_hint("Retry; if it persists, check the account's base URL."),
    };
    Some(err.with_vendor_code(vendor))
}

/// The error for a body that is not the JSON a client expected.
pub fn unreadable_answer() -> ApiError {
    ApiError::new(ErrorKind::Retryable, UNREADABLE_ANSWER)
        .with_hint("Retry in a minute; if it persists, check the account's base URL and region.")
}

/// Decodes a JSON body; anything else is [`unreadable_answer`]. The body is never quoted.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| {
        tracing::debug!(error = %err, bytes = body.len(), "unreadable answer");
        unreadable_answer()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        assert!(BaseUrl::parse("http://api-us.vicohome.io").is_err());
        let base = BaseUrl::parse("https://api-us.vicohome.io/").unwrap();
        assert_eq!(
            base.endpoint("/account/login"),
            "https://api-us.vicohome.io/account/login"
        );
        assert_eq!(base.host_label(), "api-us.vicohome.io");
        assert!(!base.is_loopback());
        let local = BaseUrl::parse("http://127.0.0.1:4567/prefix/").unwrap();
        assert_eq!(
            local.endpoint("/device/otastart/"),
            "http://127.0.0.1:4567/prefix/device/otastart/"
        );
        assert_eq!(local.host_label(), "127.0.0.1:4567");
        assert!(local.is_loopback());
    }

    #[test]
    fn statuses_map_to_kinds() {
        let host = "h";
        assert!(status_error(StatusCode::OK, None, host).is_none());
        let limited = status_error(StatusCode::TOO_MANY_REQUESTS, Some(7), host).unwrap();
        assert_eq!(
            (limited.code, limited.retry_after_secs),
            (ErrorKind::RateLimited, Some(7))
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, None, host)
                .unwrap()
                .code,
            ErrorKind::Retryable
        );
        assert_eq!(
            status_error(StatusCode::UNAUTHORIZED, None, host)
                .unwrap()
                .code,
            ErrorKind::Auth
        );
        assert_eq!(
            status_error(StatusCode::FORBIDDEN, None, host)
                .unwrap()
                .code,
            ErrorKind::Auth
        );
        assert_eq!(
            status_error(StatusCode::SERVICE_UNAVAILABLE, None, host)
                .unwrap()
                .vendor_code
                .as_deref(),
            Some("HTTP 503")
        );
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(" 12 "), Some(12));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn unreadable_body_is_retryable_and_not_quoted() {
        let err = decode_json::<serde_json::Value>(b"<html>password=hunter2</html>").unwrap_err();
        assert_eq!(err.code, ErrorKind::Retryable);
        assert_eq!(err.message, UNREADABLE_ANSWER);
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn closed_port_is_offline_with_host() {
        // Bind then drop a listener: the port is almost certainly closed right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = build_client(&HttpConfig::default()).unwrap();
        let host = format!("127.0.0.1:{port}");
        let err = send(client.get(format!("http://{host}/")), &host)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorKind::Offline);
        assert!(
            err.message.starts_with(&format!("Cannot reach {host}")),
            "{}",
            err.message
        );
        assert!(err.hint.is_some());
    }
}
