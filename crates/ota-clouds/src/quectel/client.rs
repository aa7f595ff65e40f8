//! The Quectel HTTP client: sign-in, token refresh, and authorized calls through the endpoint table.

use async_trait::async_trait;
use ota_core::cloud::{CloudSession, Credentials, QuectelEndUserApi, SessionCache};
use ota_core::{now_ms, ApiError, Device, Secret};
use serde::{Deserialize, Serialize};

use super::ble::PackageLimits;
use super::endpoints::{Encoding, Endpoint};
use super::errors::{is_refused_status, is_session_code, quectel_error, sign_in_error};
use super::wire::{Envelope, LoginData, LoginForm, Redacted, RefreshForm};
use crate::http::{self, BaseUrl, RawResponse};
use crate::retry::RetryPolicy;

/// A token this close to its expiry is renewed before use rather than sent to be refused.
const EXPIRY_MARGIN_MS: i64 = 30_000;

/// The tokens kept in the session cache (one secret, as JSON). `Debug` shows only the expiries.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tokens {
    pub access: String,
    #[serde(default)]
    pub access_expires_ms: Option<i64>,
    #[serde(default)]
    pub refresh: Option<String>,
    #[serde(default)]
    pub refresh_expires_ms: Option<i64>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access", &Redacted)
            .field("access_expires_ms", &self.access_expires_ms)
            .field("refresh", &self.refresh.as_ref().map(|_| Redacted))
            .field("refresh_expires_ms", &self.refresh_expires_ms)
            .finish()
    }
}

impl Tokens {
    fn to_secret(&self) -> Secret {
        Secret::new(serde_json::to_string(self).unwrap_or_else(|_| self.access.clone()))
    }

    /// A kept session; a bare string (an older or hand-made entry) is taken as an access token.
    fn from_secret(secret: &Secret) -> Option<Self> {
        let raw = secret.expose();
        if raw.trim().is_empty() {
            return None;
        }
        Some(serde_json::from_str(raw).unwrap_or_else(|_| Self {
            access: raw.to_string(),
            access_expires_ms: None,
            refresh: None,
            refresh_expires_ms: None,
        }))
    }

    fn access_expired(&self, now: i64) -> bool {
        self.access_expires_ms
            .is_some_and(|t| t - EXPIRY_MARGIN_MS <= now)
    }

    fn usable_refresh(&self, now: i64) -> Option<&str> {
        let live = self
            .refresh_expires_ms
            .is_none_or(|t| t - EXPIRY_MARGIN_MS > now);
        self.refresh.as_deref().filter(|r| live && !r.is_empty())
    }

    fn from_login(data: &LoginData, previous_refresh: Option<(&str, Option<i64>)>) -> Option<Self> {
        let access = data.access()?;
        let refresh = data.refresh();
        let (refresh, refresh_expires_ms) = match (refresh, previous_refresh) {
            (Some(r), _) => (r.token.clone(), r.expires_at_ms()),
            (None, Some((r, exp))) => (Some(r.to_string()), exp),
            (None, None) => (None, None),
        };
        Some(Self {
            access: access.token.clone()?,
            access_expires_ms: access.expires_at_ms(),
            refresh,
            refresh_expires_ms,
        })
    }
}

/// One signed-in Quectel account.
pub struct QuectelClient {
    pub(crate) http: reqwest::Client,
    pub(crate) base: BaseUrl,
    pub(crate) host: String,
    email: String,
    password: Secret,
    session: SessionCache,
    pub(crate) retry: RetryPolicy,
    pub(crate) page_size: u32,
    /// Idle timeout and size cap of Bluetooth package downloads.
    pub(crate) package_limits: PackageLimits,
    sign_in_lock: tokio::sync::Mutex<()>,
}

impl QuectelClient {
    pub fn new(
        http: reqwest::Client,
        base: BaseUrl,
        credentials: Credentials,
        session: SessionCache,
        retry: RetryPolicy,
    ) -> Result<Self, ApiError> {
        let email = credentials
            .username
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                ApiError::validation("A Quectel account needs the e-mail address it signs in with.")
                    .with_hint("Add the account again with its e-mail address.")
            })?;
        if credentials.secret.is_empty() {
            return Err(ApiError::validation("The Quectel password is empty."));
        }
        Ok(Self {
            http,
            host: base.host_label(),
            base,
            email,
            password: credentials.secret,
            session,
            retry,
            page_size: 100,
            package_limits: PackageLimits::default(),
            sign_in_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Page size for listings (100 unless a test wants more pages).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Other limits for Bluetooth package downloads (tests use a short idle timeout).
    pub fn with_package_limits(mut self, limits: PackageLimits) -> Self {
        self.package_limits = limits;
        self
    }

    /// The request for `endpoint`, with `params` encoded the way the endpoint table says (query, form or
    /// JSON), so no call can send a documented endpoint another form.
    fn request<P: Serialize + ?Sized>(
        &self,
        endpoint: Endpoint,
        access: Option<&str>,
        params: &P,
    ) -> reqwest::RequestBuilder {
        let route = endpoint.route();
        let mut request = self
            .http
            .request(route.method.as_reqwest(), self.base.endpoint(route.path));
        request = match route.encoding {
            Encoding::Query => request.query(params),
            Encoding::Form => request.form(params),
            Encoding::JsonObject | Encoding::JsonArray => request.json(params),
        };
        if let Some(access) = access {
            // Verbatim, no "Bearer ".
            request = request.header(reqwest::header::AUTHORIZATION, access);
        }
        request
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Envelope, ApiError> {
        let raw = http::send(request, &self.host).await?;
        envelope_of(&raw, &self.host)
    }

    /// Signs in with e-mail and password; keeps the tokens in the session cache.
    pub(crate) async fn sign_in(&self) -> Result<Tokens, ApiError> {
        let form = LoginForm {
            email: &self.email,
            pwd: self.password.expose(),
        };
        let envelope = self
            .exchange(self.request(Endpoint::EmailPwdLogin, None, &form))
            .await?;
        if !envelope.is_success() {
            return Err(sign_in_error(
                envelope.code.unwrap_or(-1),
                envelope.description(),
            ));
        }
        let tokens = envelope
            .data()
            .and_then(|d| LoginData::deserialize(d).ok())
            .and_then(|d| Tokens::from_login(&d, None))
            .ok_or_else(http::unreadable_answer)?;
        self.session.set(Some(tokens.to_secret()));
        tracing::info!(host = %self.host, "signed in to Quectel");
        Ok(tokens)
    }

    /// Trades the refresh token for a new access token.
    async fn refresh(&self, refresh: &str, expires: Option<i64>) -> Result<Tokens, ApiError> {
        let form = RefreshForm {
            refresh_token: refresh,
        };
        let envelope = self
            .exchange(self.request(Endpoint::RefreshToken, None, &form))
            .await?;
        if !envelope.is_success() {
            return Err(quectel_error(
                envelope.code.unwrap_or(-1),
                envelope.description(),
            ));
        }
        let tokens = envelope
            .data()
            .and_then(|d| LoginData::deserialize(d).ok())
            .and_then(|d| Tokens::from_login(&d, Some((refresh, expires))))
            .ok_or_else(http::unreadable_answer)?;
        self.session.set(Some(tokens.to_secret()));
        tracing::info!(host = %self.host, "refreshed the Quectel access token");
        Ok(tokens)
    }

    async fn tokens(&self) -> Result<Tokens, ApiError> {
        if let Some(tokens) = self.session.get().as_ref().and_then(Tokens::from_secret) {
            return Ok(tokens);
        }
        let _guard = self.sign_in_lock.lock().await;
        match self.session.get().as_ref().and_then(Tokens::from_secret) {
            Some(tokens) => Ok(tokens),
            None => self.sign_in().await,
        }
    }

    /// New tokens after `rejected` was refused (or expired): refresh when possible, else sign in. When
    /// another call renewed them meanwhile, those are used.
    async fn renew(&self, rejected: &Tokens) -> Result<Tokens, ApiError> {
        let _guard = self.sign_in_lock.lock().await;
        if let Some(current) = self.session.get().as_ref().and_then(Tokens::from_secret) {
            if current.access != rejected.access {
                return Ok(current);
            }
        }
        if let Some(refresh) = rejected.usable_refresh(now_ms()) {
            match self.refresh(refresh, rejected.refresh_expires_ms).await {
                Ok(tokens) => return Ok(tokens),
                Err(err) => {
                    tracing::info!(host = %self.host, error = %err.display_line(),
                        "token refresh failed; signing in again");
                }
            }
        }
        self.session.set(None);
        self.sign_in().await
    }

    /// An authorized call with these parameters (encoded as the endpoint table says).
    ///
    /// A refused token (a session code in the envelope, or HTTP 401/403) is renewed once — refreshed, else
    /// a fresh sign-in — and the call repeated once. At most one renewal per call, counting the one made
    /// before sending a token past its expiry: a token refused right after its renewal comes back as the
    /// auth error it is (never retried, see [`crate::retry::is_retryable`]), so a cloud that keeps
    /// refusing cannot drive a loop of sign-ins.
    pub(crate) async fn call<P: Serialize + ?Sized>(
        &self,
        endpoint: Endpoint,
        params: &P,
    ) -> Result<Envelope, ApiError> {
        let mut tokens = self.tokens().await?;
        let mut renewed = false;
        if tokens.access_expired(now_ms()) {
            tokens = self.renew(&tokens).await?;
            renewed = true;
        }
        let first = self
            .exchange(self.request(endpoint, Some(&tokens.access), params))
            .await;
        if renewed || !token_refused(&first) {
            return first;
        }
        tracing::info!(host = %self.host, ?endpoint, "Quectel token refused; renewing once");
        let tokens = self.renew(&tokens).await?;
        self.exchange(self.request(endpoint, Some(&tokens.access), params))
            .await
    }

    /// An authorized call whose answer must be a success; its `data`.
    pub(crate) async fn call_ok<P: Serialize + ?Sized>(
        &self,
        endpoint: Endpoint,
        params: &P,
    ) -> Result<Option<serde_json::Value>, ApiError> {
        let envelope = self.call(endpoint, params).await?;
        if envelope.is_success() {
            Ok(envelope.into_data())
        } else {
            Err(quectel_error(
                envelope.code.unwrap_or(-1),
                envelope.description(),
            ))
        }
    }
}

/// Whether an authorized call's answer says the token was refused: a session code in the envelope, or
/// HTTP 401/403 without one.
fn token_refused(answer: &Result<Envelope, ApiError>) -> bool {
    match answer {
        Ok(envelope) => envelope.code.is_some_and(is_session_code),
        Err(err) => is_refused_status(err),
    }
}

/// The envelope in an answer, if the answer is one; otherwise what its HTTP status says.
pub(crate) fn envelope_of(raw: &RawResponse, host: &str) -> Result<Envelope, ApiError> {
    if raw.may_carry_envelope() {
        if let Ok(envelope) = serde_json::from_slice::<Envelope>(&raw.body) {
            if envelope.code.is_some() {
                return Ok(envelope);
            }
        }
    }
    match raw.status_error(host) {
        Some(err) => Err(err),
        None => Err(http::unreadable_answer()),
    }
}

#[async_trait]
impl CloudSession for QuectelClient {
    async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        super::devices::list_devices(self).await
    }

    fn quectel(&self) -> Option<&dyn QuectelEndUserApi> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_tokens_round_trip_and_accept_a_bare_token() {
        let tokens = Tokens {
            access: "a".into(),
            access_expires_ms: Some(10),
            refresh: Some("r".into()),
            refresh_expires_ms: None,
        };
        assert_eq!(Tokens::from_secret(&tokens.to_secret()), Some(tokens));
        let bare = Tokens::from_secret(&Secret::new("plain-token")).unwrap();
        assert_eq!(bare.access, "plain-token");
        assert!(Tokens::from_secret(&Secret::new(" ")).is_none());
    }

    #[test]
    fn kept_tokens_never_show_in_debug() {
        let tokens = Tokens {
            access: "qa-SECRET".into(),
            access_expires_ms: Some(10),
            refresh: Some("qr-SECRET".into()),
            refresh_expires_ms: Some(20),
        };
        let shown = format!("{tokens:?}");
        assert!(
            !shown.contains("qa-SECRET") && !shown.contains("qr-SECRET"),
            "{shown}"
        );
        assert!(
            shown.contains("<redacted>") && shown.contains("20"),
            "{shown}"
        );
    }

    #[test]
    fn expiry_rules() {
        let tokens = Tokens {
            access: "a".into(),
            access_expires_ms: Some(100_000),
            refresh: Some("r".into()),
            refresh_expires_ms: Some(50_000),
        };
        assert!(!tokens.access_expired(0));
        assert!(tokens.access_expired(80_000));
        assert_eq!(tokens.usable_refresh(0), Some("r"));
        assert_eq!(tokens.usable_refresh(40_000), None);
    }
}
