//! The Vicohome HTTP client: sign-in with a kept session token, device list, and the OTA calls.

use async_trait::async_trait;
use ota_core::cloud::{CloudSession, Credentials, SessionCache, VicohomeOta, VicohomeOtaStatus};
use ota_core::{now_ms, ApiError, Cloud, Device, ErrorKind, Secret};
use serde::{Deserialize, Serialize};

use super::errors::{is_session_code, sign_in_error, vicohome_error};
use super::wire::{
    self, BaseEntry, DeviceInfo, Envelope, ListDevicesRequest, LoginData, LoginRequest,
    OtaStatusData, SerialRequest, StartOtaRequest,
};
use super::VicohomeOptions;
use crate::http::{self, BaseUrl, RawResponse};
use crate::retry::retry;

const LOGIN: &str = "/account/login";
const LIST_DEVICES: &str = "/device/listuserdevices";
const SINGLE_DEVICE: &str = "/device/selectsingledevice";
const OTA_START: &str = "/device/otastart/";
const OTA_STATUS: &str = "/device/otastatus/";

const DOWNLOAD_FAILED: i64 = -10401;
const INSTALL_FAILED: i64 = -10402;

/// One signed-in Vicohome account.
pub struct VicohomeClient {
    http: reqwest::Client,
    base: BaseUrl,
    host: String,
    email: String,
    password: Secret,
    session: SessionCache,
    options: VicohomeOptions,
    /// One sign-in at a time: calls that find the token expired together share the new one.
    sign_in_lock: tokio::sync::Mutex<()>,
}

impl VicohomeClient {
    pub fn new(
        http: reqwest::Client,
        base: BaseUrl,
        credentials: Credentials,
        session: SessionCache,
        options: VicohomeOptions,
    ) -> Result<Self, ApiError> {
        let email = credentials
            .username
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                ApiError::validation(
                    "A Vicohome account needs the e-mail address it signs in with.",
                )
                .with_hint("Add the account again with its e-mail address.")
            })?;
        if credentials.secret.is_empty() {
            return Err(ApiError::validation("The Vicohome password is empty."));
        }
        Ok(Self {
            http,
            host: base.host_label(),
            base,
            email,
            password: credentials.secret,
            session,
            options,
            sign_in_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Signs in with e-mail and password and keeps the new token in the session cache.
    pub async fn sign_in(&self) -> Result<Secret, ApiError> {
        let body = LoginRequest {
            email: &self.email,
            password: self.password.expose(),
            login_type: 0,
        };
        let envelope = self.exchange(None, LOGIN, &body).await?;
        let outcome = envelope.outcome().unwrap_or(-1);
        if outcome != 0 {
            return Err(sign_in_error(outcome, envelope.msg.as_deref()));
        }
        let token = envelope
            .data()
            .and_then(|d| LoginData::deserialize(d).ok())
            .and_then(|d| d.token())
            .ok_or_else(http::unreadable_answer)?;
        let token = Secret::new(token);
        self.session.set(Some(token.clone()));
        tracing::info!(host = %self.host, "signed in to Vicohome");
        Ok(token)
    }

    /// The kept token, or a fresh sign-in when there is none.
    async fn token(&self) -> Result<Secret, ApiError> {
        if let Some(token) = self.session.get() {
            return Ok(token);
        }
        let _guard = self.sign_in_lock.lock().await;
        match self.session.get() {
            Some(token) => Ok(token),
            None => self.sign_in().await,
        }
    }

    /// A new token after `rejected` was refused, unless another call already got one meanwhile.
    async fn renew(&self, rejected: &Secret) -> Result<Secret, ApiError> {
        let _guard = self.sign_in_lock.lock().await;
        if let Some(current) = self.session.get() {
            if &current != rejected {
                return Ok(current);
            }
        }
        self.session.set(None);
        self.sign_in().await
    }

    /// One request: the envelope when the answer is one (whatever its outcome), else the HTTP or
    /// transport failure.
    async fn exchange<B: Serialize + ?Sized>(
        &self,
        token: Option<&Secret>,
        path: &str,
        body: &B,
    ) -> Result<Envelope, ApiError> {
        let mut request = self.http.post(self.base.endpoint(path)).json(body);
        if let Some(token) = token {
            // Verbatim, no "Bearer ": that is what the vendor's app sends.
            request = request.header(reqwest::header::AUTHORIZATION, token.expose());
        }
        let raw = http::send(request, &self.host).await?;
        envelope_of(&raw, &self.host)
    }

    /// An authorized call. A session code (-1024..-1027) or HTTP 401/403 means the token is no longer
    /// good: sign in again and repeat the call once. Only once: if the new token is refused too, that
    /// answer is what the caller gets (an auth error, never retried, see [`crate::retry::is_retryable`]),
    /// so a cloud that keeps refusing cannot drive a loop of sign-ins.
    async fn call<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Envelope, ApiError> {
        let token = self.token().await?;
        let first = self.exchange(Some(&token), path, body).await;
        let stale = match &first {
            Ok(envelope) => envelope.outcome().is_some_and(is_session_code),
            Err(err) => is_refused_status(err),
        };
        if !stale {
            return first;
        }
        tracing::info!(host = %self.host, path, "Vicohome session no longer valid; signing in again");
        let token = self.renew(&token).await?;
        self.exchange(Some(&token), path, body).await
    }

    /// An authorized call whose answer must be a success; its `data`.
    async fn call_ok<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Option<serde_json::Value>, ApiError> {
        let envelope = self.call(path, body).await?;
        match envelope.outcome() {
            Some(0) => Ok(envelope.into_data()),
            Some(code) => Err(vicohome_error(code, envelope.msg.as_deref())),
            None => Err(http::unreadable_answer()),
        }
    }

    /// Every camera on the account.
    pub async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        let body = ListDevicesRequest {
            language: &self.options.language,
            country_no: &self.options.country_no,
        };
        let data = retry(&self.options.retry, "vicohome list devices", || {
            self.call_ok(LIST_DEVICES, &body)
        })
        .await?;
        let list = match data {
            None => Vec::new(),
            Some(data) => wire::device_list_owned(data).ok_or_else(http::unreadable_answer)?,
        };
        let refreshed_at = now_ms();
        let devices: Vec<Device> = list
            .into_iter()
            .filter_map(|info| device_from(info, refreshed_at))
            .collect();
        Ok(devices)
    }

    /// One camera as `selectsingledevice` describes it.
    pub async fn device(&self, serial: &str) -> Result<DeviceInfo, ApiError> {
        let body = SerialRequest {
            serial_number: serial,
        };
        let data = retry(&self.options.retry, "vicohome device", || {
            self.call_ok(SINGLE_DEVICE, &body)
        })
        .await?
        .ok_or_else(http::unreadable_answer)?;
        DeviceInfo::deserialize(&data).map_err(|_| http::unreadable_answer())
    }
}

/// An HTTP 401 or 403 without an envelope: the token was refused below the API.
fn is_refused_status(err: &ApiError) -> bool {
    err.code == ErrorKind::Auth
        && matches!(err.vendor_code.as_deref(), Some("HTTP 401" | "HTTP 403"))
}

/// The envelope in an answer, if the answer is one; otherwise what its HTTP status says.
pub(crate) fn envelope_of(raw: &RawResponse, host: &str) -> Result<Envelope, ApiError> {
    if raw.may_carry_envelope() {
        if let Ok(envelope) = serde_json::from_slice::<Envelope>(&raw.body) {
            if envelope.outcome().is_some() {
                return Ok(envelope);
            }
        }
    }
    match raw.status_error(host) {
        Some(err) => Err(err),
        None => Err(http::unreadable_answer()),
    }
}

/// The model's view of a listed camera; entries without a serial number cannot be acted on and are skipped.
pub(crate) fn device_from(info: DeviceInfo, refreshed_at: i64) -> Option<Device> {
    let id = info.serial_number.filter(|s| !s.trim().is_empty())?;
    Some(Device {
        account_id: 0,
        cloud: Cloud::Vicohome,
        product_key: None,
        name: info
            .device_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| id.clone()),
        model: info.model_no.unwrap_or_default(),
        manufacturer: None,
        transport: None,
        firmware: info.firmware_id.unwrap_or_default(),
        newest_firmware: info.newest_firmware_id.filter(|f| !f.is_empty()),
        online: info.online.unwrap_or(true),
        battery: crate::lenient::battery_percent(info.battery_level),
        signal: crate::lenient::signal(info.signal_strength),
        refreshed_at,
        id,
        tags: Vec::new(),
    })
}

/// The engine's status from an otastart/otastatus `data`.
pub(crate) fn status_from(serial: &str, data: &OtaStatusData) -> VicohomeOtaStatus {
    let ota_status = data
        .ota_status
        .unwrap_or(0)
        .clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    VicohomeOtaStatus {
        serial: data
            .serial_number
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| serial.to_string()),
        // Absent: only downloading/installing count as running, so an idle camera is never taken for busy.
        in_progress: data.in_progress.unwrap_or(matches!(ota_status, 1 | 2)),
        ota_status,
        transferred: data.transferred_size.unwrap_or(0).max(0) as u64,
        total: data.total_size.unwrap_or(0).max(0) as u64,
        target_firmware: data.target_firmware.clone().filter(|f| !f.is_empty()),
        error: None,
    }
}

fn status_data(envelope: &Envelope) -> Option<OtaStatusData> {
    envelope
        .data()
        .and_then(|d| OtaStatusData::deserialize(d).ok())
}

/// Maps an otastatus answer. A download/install failure code is a status (with its phase and the error),
/// not an `Err`, so the job records which phase failed.
fn ota_status_from(serial: &str, envelope: &Envelope) -> Result<VicohomeOtaStatus, ApiError> {
    match envelope.outcome() {
        Some(0) => status_data(envelope)
            .map(|d| status_from(serial, &d))
            .ok_or_else(http::unreadable_answer),
        Some(code @ (DOWNLOAD_FAILED | INSTALL_FAILED)) => {
            let failed_phase = if code == DOWNLOAD_FAILED { 4 } else { 5 };
            let mut status = status_data(envelope)
                .map(|d| status_from(serial, &d))
                .unwrap_or_else(|| status_from(serial, &OtaStatusData::default()));
            if !matches!(status.ota_status, 4 | 5) {
                status.ota_status = failed_phase;
            }
            status.in_progress = false;
            status.error = Some(vicohome_error(code, envelope.msg.as_deref()));
            Ok(status)
        }
        Some(code) => Err(vicohome_error(code, envelope.msg.as_deref())),
        None => Err(http::unreadable_answer()),
    }
}

#[async_trait]
impl VicohomeOta for VicohomeClient {
    async fn start_ota(&self, serial: &str) -> Result<VicohomeOtaStatus, ApiError> {
        let body = StartOtaRequest {
            serial_number: serial,
            base: BaseEntry {
                app: &self.options.app,
                country_no: &self.options.country_no,
                language: &self.options.language,
                tenant_id: &self.options.tenant_id,
            },
        };
        // Never retried here: a repeated start could begin a second update.
        let envelope = self.call(OTA_START, &body).await?;
        match envelope.outcome() {
            Some(0) => Ok(match status_data(&envelope) {
                Some(data) => status_from(serial, &data),
                // Accepted without details: the camera is about to start.
                None => VicohomeOtaStatus {
                    in_progress: true,
                    ..status_from(serial, &OtaStatusData::default())
                },
            }),
            Some(code) => Err(vicohome_error(code, envelope.msg.as_deref())),
            None => Err(http::unreadable_answer()),
        }
    }

    async fn ota_status(&self, serial: &str) -> Result<VicohomeOtaStatus, ApiError> {
        let body = SerialRequest {
            serial_number: serial,
        };
        retry(&self.options.retry, "vicohome ota status", || async {
            let envelope = self.call(OTA_STATUS, &body).await?;
            ota_status_from(serial, &envelope)
        })
        .await
    }

    async fn current_firmware(&self, serial: &str) -> Result<Option<String>, ApiError> {
        Ok(self
            .device(serial)
            .await?
            .firmware_id
            .filter(|f| !f.is_empty()))
    }
}

#[async_trait]
impl CloudSession for VicohomeClient {
    async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        VicohomeClient::list_devices(self).await
    }

    fn vicohome(&self) -> Option<&dyn VicohomeOta> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn envelope(value: serde_json::Value) -> Envelope {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn device_mapping() {
        let info: DeviceInfo = serde_json::from_value(json!({
            "serialNumber": "SN1", "deviceName": "Porch", "modelNo": "CG6", "firmwareId": "1.2.0",
            "newestFirmwareId": "1.3.0", "online": 0, "batteryLevel": 55, "signalStrength": -61
        }))
        .unwrap();
        let d = device_from(info, 5).unwrap();
        assert_eq!(
            (
                d.id.as_str(),
                d.name.as_str(),
                d.model.as_str(),
                d.firmware.as_str()
            ),
            ("SN1", "Porch", "CG6", "1.2.0")
        );
        assert_eq!(d.newest_firmware.as_deref(), Some("1.3.0"));
        assert!(!d.online);
        assert_eq!(
            (d.battery, d.signal, d.cloud),
            (Some(55), Some(-61), Cloud::Vicohome)
        );

        let bare: DeviceInfo = serde_json::from_value(json!({"serialNumber": "SN2"})).unwrap();
        let d = device_from(bare, 5).unwrap();
        assert!(d.online, "absent online means online");
        assert_eq!(d.name, "SN2");
        assert!(device_from(DeviceInfo::default(), 5).is_none());
    }

    #[test]
    fn failure_codes_become_failed_statuses() {
        let e = envelope(json!({"result": -10401, "msg": "download failed",
            "data": {"serialNumber": "S", "otaStatus": 1, "inProgress": true, "totalSize": 100, "transferredSize": 40}}));
        let status = ota_status_from("S", &e).unwrap();
        assert_eq!(status.ota_status, 4);
        assert!(!status.in_progress);
        assert_eq!(status.transferred, 40);
        let err = status.error.unwrap();
        assert_eq!(
            (err.code, err.vendor_code.as_deref()),
            (ErrorKind::Device, Some("-10401"))
        );

        let e = envelope(json!({"result": -10402, "data": {"otaStatus": 5}}));
        let status = ota_status_from("S", &e).unwrap();
        assert_eq!(status.ota_status, 5);
        assert_eq!(status.serial, "S");

        let e = envelope(json!({"code": -10402}));
        assert_eq!(ota_status_from("S", &e).unwrap().ota_status, 5);
    }

    #[test]
    fn other_codes_are_errors() {
        let e = envelope(json!({"result": -101, "msg": "offline"}));
        assert_eq!(
            ota_status_from("S", &e).unwrap_err().code,
            ErrorKind::Offline
        );
        let e = envelope(json!({"result": 0}));
        assert_eq!(
            ota_status_from("S", &e).unwrap_err().code,
            ErrorKind::Retryable
        );
    }

    #[test]
    fn idle_camera_is_not_in_progress_when_the_flag_is_missing() {
        let idle = status_from("S", &OtaStatusData::default());
        assert!(!idle.in_progress);
        let busy = status_from(
            "S",
            &OtaStatusData {
                ota_status: Some(1),
                ..Default::default()
            },
        );
        assert!(busy.in_progress);
    }
}
