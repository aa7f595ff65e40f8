//! The OneNET client. Every call carries a freshly signed product token in `Authorization`.

use async_trait::async_trait;
use ota_core::cloud::{CloudSession, Credentials, OnenetDeviceApi};
use ota_core::{now_ms, ApiError, Cloud, Device, Secret};
use serde::Deserialize;

use super::errors::onenet_error;
use super::token::{self, Resource, TokenError, TokenMethod, TokenRequest};
use super::wire::{DeviceEntry, DeviceListData, DeviceListQuery, Envelope};
use crate::http::{self, BaseUrl, RawResponse};
use crate::retry::{retry, RetryPolicy};

/// The simulator's listing (sandbox accounts only).
const SANDBOX_DEVICES: &str = "/_sim/onenet/devices";

/// What every OneNET call declares as its Content-Type.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// One OneNET product, reached with its product access key.
pub struct OnenetClient {
    pub(super) http: reqwest::Client,
    pub(super) base: BaseUrl,
    pub(super) host: String,
    product_id: String,
    access_key: Secret,
    method: TokenMethod,
    pub(super) retry: RetryPolicy,
}

fn token_error(err: TokenError) -> ApiError {
    match err {
        TokenError::EmptyAccessKey | TokenError::AccessKeyNotBase64 => ApiError::validation(
            "The OneNET access key is not valid: it should be the base64 text shown in the OneNET console.",
        )
        .with_hint("Copy the product's access key again from the OneNET console and add the account again."),
        TokenError::EmptyResource => ApiError::validation("The OneNET account has no product id.")
            .with_hint("Add the account again with the product id as its user name."),
        other => ApiError::internal(format!("A OneNET token could not be made: {other}")),
    }
}

impl OnenetClient {
    /// `credentials.username` is the product id, `credentials.secret` the product's access key.
    pub fn new(
        http: reqwest::Client,
        base: BaseUrl,
        credentials: Credentials,
        retry: RetryPolicy,
    ) -> Result<Self, ApiError> {
        let product_id = credentials
            .username
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                ApiError::validation("A OneNET account needs its product id.")
                    .with_hint("Add the account again with the product id as its user name.")
            })?;
        let client = Self {
            http,
            host: base.host_label(),
            base,
            product_id,
            access_key: credentials.secret,
            method: TokenMethod::Sha256,
            retry,
        };
        // A key that cannot sign is reported when the account is used, not at the first request.
        client.token()?;
        Ok(client)
    }

    pub fn product_id(&self) -> &str {
        &self.product_id
    }

    /// A OneNET call to `path`: a freshly signed product token in `Authorization`, and
    /// `Content-Type: application/json` on every call, GETs included — the vendor marks the header
    /// required and names no call that may leave it out.
    pub(super) fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        Ok(self
            .http
            .request(method, self.base.endpoint(path))
            .header(reqwest::header::AUTHORIZATION, self.token()?)
            .header(reqwest::header::CONTENT_TYPE, JSON_CONTENT_TYPE))
    }

    /// A product token valid for the next hour.
    pub fn token(&self) -> Result<String, ApiError> {
        let mut request = TokenRequest::new(Resource::Product(self.product_id.clone()));
        request.method = self.method;
        token::sign(&self.access_key, &request).map_err(token_error)
    }

    /// The product's devices. OneNET's device-side API has no listing: for a real account this is empty
    /// (the user adds devices by id); the sandbox simulator offers one.
    pub async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        if !self.base.is_loopback() {
            return Ok(Vec::new());
        }
        let query = DeviceListQuery {
            product_id: &self.product_id,
        };
        let data = retry(&self.retry, "onenet device list", || async {
            let request = self
                .request(reqwest::Method::GET, SANDBOX_DEVICES)?
                .query(&query);
            let raw = http::send(request, &self.host).await?;
            data_of(&raw, &self.host)
        })
        .await?;
        let list = match data {
            Some(data) => {
                DeviceListData::deserialize(data).map_err(|_| http::unreadable_answer())?
            }
            None => DeviceListData::default(),
        };
        let refreshed_at = now_ms();
        Ok(list
            .into_entries()
            .into_iter()
            .filter_map(|e| device_from(e, &self.product_id, refreshed_at))
            .collect())
    }
}

/// `data` of a successful answer; the errno's error otherwise.
pub(crate) fn data_of(
    raw: &RawResponse,
    host: &str,
) -> Result<Option<serde_json::Value>, ApiError> {
    if raw.may_carry_envelope() {
        if let Ok(envelope) = serde_json::from_slice::<Envelope>(&raw.body) {
            match envelope.errno {
                Some(0) => return Ok(envelope.into_data()),
                Some(errno) => return Err(onenet_error(errno, envelope.error.as_deref())),
                None => {}
            }
        }
    }
    match raw.status_error(host) {
        Some(err) => Err(err),
        None => Err(http::unreadable_answer()),
    }
}

pub(crate) fn device_from(
    entry: DeviceEntry,
    product_id: &str,
    refreshed_at: i64,
) -> Option<Device> {
    let id = entry.dev_id.filter(|d| !d.trim().is_empty())?;
    Some(Device {
        account_id: 0,
        cloud: Cloud::Onenet,
        product_key: Some(product_id.to_string()),
        name: entry
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| id.clone()),
        model: entry.model.unwrap_or_default(),
        manufacturer: entry.manuf.filter(|m| !m.is_empty()),
        transport: None,
        firmware: entry.version.unwrap_or_default(),
        newest_firmware: None,
        online: entry.online.unwrap_or(false),
        battery: crate::lenient::battery_percent(entry.battery),
        signal: crate::lenient::signal(entry.signal),
        refreshed_at,
        id,
        tags: Vec::new(),
    })
}

#[async_trait]
impl CloudSession for OnenetClient {
    async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        OnenetClient::list_devices(self).await
    }

    /// OneNET has no sign-in: a product access key only signs tokens. The key was already checked to
    /// sign one when this client was built; the simulator's listing also checks the token itself. A real
    /// product's key is first checked by OneNET at a device's first call, and the answer says so.
    async fn verify(&self) -> Result<String, ApiError> {
        if self.base.is_loopback() {
            let devices = OnenetClient::list_devices(self).await?;
            return Ok(format!(
                "The product token was accepted; {} device{} listed.",
                devices.len(),
                if devices.len() == 1 { "" } else { "s" }
            ));
        }
        Ok(
            "The access key signs a valid OneNET token. OneNET has no sign-in to test it against: \
            it checks the key at a device's first update check."
                .to_string(),
        )
    }

    fn onenet(&self) -> Option<&dyn OnenetDeviceApi> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use ota_core::ErrorKind;
    use reqwest::StatusCode;

    use super::*;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after_secs: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn envelopes_and_statuses() {
        let ok = data_of(
            &raw(200, r#"{"errno":0,"error":"succ","data":{"devices":[]}}"#),
            "h",
        )
        .unwrap();
        assert!(ok.is_some());
        let auth = data_of(&raw(200, r#"{"errno":1,"error":"auth failed"}"#), "h").unwrap_err();
        assert_eq!(auth.code, ErrorKind::Auth);
        assert_eq!(auth.message, "OneNET rejected the access key or token");
        assert_eq!(
            data_of(&raw(503, "busy"), "h").unwrap_err().code,
            ErrorKind::Retryable
        );
        assert_eq!(
            data_of(&raw(200, "<html>"), "h").unwrap_err().code,
            ErrorKind::Retryable
        );
    }

    #[test]
    fn real_accounts_need_a_usable_key() {
        let http = crate::http::build_client(&crate::http::HttpConfig::default()).unwrap();
        let base = BaseUrl::parse("https://ota.heclouds.com").unwrap();
        let bad = OnenetClient::new(
            http.clone(),
            base.clone(),
            Credentials {
                username: Some("245528".into()),
                secret: Secret::new("%%% not base64"),
            },
            RetryPolicy::none(),
        );
        assert_eq!(bad.err().unwrap().code, ErrorKind::Validation);
        let missing = OnenetClient::new(
            http,
            base,
            Credentials {
                username: None,
                secret: Secret::new("AAAA"),
            },
            RetryPolicy::none(),
        );
        assert_eq!(missing.err().unwrap().code, ErrorKind::Validation);
    }

    #[tokio::test]
    async fn real_account_listing_is_empty_without_a_request() {
        let http = crate::http::build_client(&crate::http::HttpConfig::default()).unwrap();
        // An unroutable https host: a request would fail, so an Ok proves none was sent.
        let base = BaseUrl::parse("https://onenet.invalid").unwrap();
        let client = OnenetClient::new(
            http,
            base,
            Credentials {
                username: Some("245528".into()),
                secret: Secret::new("AAAA"),
            },
            RetryPolicy::none(),
        )
        .unwrap();
        assert!(client.list_devices().await.unwrap().is_empty());
    }
}
