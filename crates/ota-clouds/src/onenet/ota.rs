//! OneNET's device-side OTA calls, made on a device's behalf: check for a task, check the download
//! token, download a byte range, report a result. Each call signs a fresh product token.

use ota_core::onenet::{
    OnenetDeviceRef, OnenetPackageKind, OnenetReportAnswer, OnenetTask, OnenetTaskType,
};
use ota_core::{ApiError, ErrorKind};
use serde::Deserialize;

use super::client::{data_of, OnenetClient};
use super::errors::onenet_error;
use super::ids;
use super::results;
use super::wire::{CheckData, CheckQuery, DevQuery, Envelope, ReportBody, ReportQuery};
use crate::http::{self, RawResponse};
use crate::retry::retry;

const CHECK: &str = "/ota/south/check";
const TASKING: &str = "/ota/south/tasking";
const REPORT: &str = "/ota/south/report";
const DEVICE_VERSION: &str = "/ota/device/version";

/// `GET /ota/device/version` answers the versions the device last reported (either may be absent).
#[derive(Debug, Default, Deserialize)]
struct VersionData {
    #[serde(default, deserialize_with = "crate::lenient::opt_string")]
    s_version: Option<String>,
}

/// errno of a check that found no task of the asked type.
const NO_TASK: i64 = 11;

/// The download token's path segment: OneNET hands out "ota_" + 20 alphanumerics; anything else would
/// change the URL's meaning, so it is refused before it is sent.
pub fn valid_download_token(token: &str) -> bool {
    ids::is_download_token(token)
}

pub(super) fn token_path(token: &str) -> Result<String, ApiError> {
    let token = ids::download_token(token)?;
    Ok(format!("/ota/south/download/{token}"))
}

/// OneNET's version format (errno 27 otherwise), checked before anything is sent.
pub fn valid_version(version: &str) -> bool {
    ids::is_version(version)
}

fn validate_device(device: &OnenetDeviceRef) -> Result<(), ApiError> {
    ids::dev_id(&device.dev_id)?;
    if !valid_version(&device.version) {
        return Err(ApiError::validation(format!(
            "“{}” is not a version OneNET accepts.",
            device.version
        ))
        .with_hint("Use 1 to 20 characters of letters, digits, '_', '.' or '-'."));
    }
    Ok(())
}

pub(crate) fn task_from(device: &OnenetDeviceRef, data: CheckData) -> Result<OnenetTask, ApiError> {
    let incomplete = || {
        tracing::warn!("a OneNET check answered errno 0 without a usable task");
        ApiError::new(
            ErrorKind::Retryable,
            "OneNET reported a task but left out its token, size or MD5",
        )
        .with_hint("Check again in a minute.")
    };
    let token = data
        .token
        .filter(|t| valid_download_token(t))
        .ok_or_else(incomplete)?;
    let size = data
        .size
        .and_then(|s| u64::try_from(s).ok())
        .filter(|s| *s > 0)
        .ok_or_else(incomplete)?;
    let md5 = data
        .md5
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| ids::is_md5(m))
        .ok_or_else(incomplete)?;
    Ok(OnenetTask {
        dev_id: device.dev_id.clone(),
        target_version: data.target.unwrap_or_default(),
        token,
        size,
        md5,
        min_signal: data.signal,
        min_power: data.power,
        retry: data.retry,
        interval_secs: data.interval,
        package: if data.package_type == Some(2) {
            OnenetPackageKind::Diff
        } else {
            OnenetPackageKind::Full
        },
        task_type: device.task_type,
    })
}

/// The answer of a report in words; errno 2 means an unknown result code here, not bad parameters, and
/// 21 a result out of the documented order.
fn report_error(errno: i64, error: Option<&str>, code: u16) -> ApiError {
    match errno {
        2 => ApiError::validation(format!("OneNET does not know the result code {code}"))
            .with_hint("Report one of the documented result codes (101–107, 201–208).")
            .with_vendor_code("errno 2"),
        21 => {
            let (message, hint) = if code < 200 {
                (
                    format!("OneNET refused {code}: a download result is taken once, while the task is downloading"),
                    "Fetch the package first (the fetch reports its own result); after flashing, report 201 or 202–208.",
                )
            } else {
                (
                    format!("OneNET refused {code}: an upgrade result is taken only after the download was reported (101)"),
                    "Fetch the package first: a verified download reports 101, then report the upgrade's result.",
                )
            };
            ApiError::new(ErrorKind::Conflict, message)
                .with_hint(hint)
                .with_vendor_code("errno 21")
        }
        _ => onenet_error(errno, error),
    }
}

impl OnenetClient {
    /// `GET /ota/south/check`: the device's pending task, or None when there is none of this type.
    pub async fn check_task(
        &self,
        device: &OnenetDeviceRef,
    ) -> Result<Option<OnenetTask>, ApiError> {
        self.find_task(CHECK, device).await
    }

    /// `GET /ota/south/tasking`: the task the device is in the middle of, if any.
    pub async fn task_in_progress(
        &self,
        device: &OnenetDeviceRef,
    ) -> Result<Option<OnenetTask>, ApiError> {
        self.find_task(TASKING, device).await
    }

    async fn find_task(
        &self,
        path: &str,
        device: &OnenetDeviceRef,
    ) -> Result<Option<OnenetTask>, ApiError> {
        validate_device(device)?;
        let query = CheckQuery {
            dev_id: &device.dev_id,
            manuf: device.manuf.as_deref().filter(|m| !m.is_empty()),
            model: device.model.as_deref().filter(|m| !m.is_empty()),
            task_type: device.task_type.code(),
            version: (path == CHECK).then_some(device.version.as_str()),
            cdn: false,
        };
        let raw = retry(&self.retry, "onenet check", || async {
            let request = self.request(reqwest::Method::GET, path)?.query(&query);
            http::send(request, &self.host).await
        })
        .await?;
        if let Some(NO_TASK) = errno_of(&raw) {
            return Ok(None);
        }
        let data = data_of(&raw, &self.host)?.ok_or_else(http::unreadable_answer)?;
        let data = CheckData::deserialize(&data).map_err(|_| http::unreadable_answer())?;
        task_from(device, data).map(Some)
    }

    /// `GET /ota/device/version`: the application version (`s_version`) the device last reported; None
    /// when it reported none.
    pub async fn device_version(&self, dev_id: &str) -> Result<Option<String>, ApiError> {
        let dev_id = ids::dev_id(dev_id)?;
        let query = DevQuery { dev_id };
        let raw = retry(&self.retry, "onenet device version", || async {
            let request = self
                .request(reqwest::Method::GET, DEVICE_VERSION)?
                .query(&query);
            http::send(request, &self.host).await
        })
        .await?;
        let Some(data) = data_of(&raw, &self.host)? else {
            return Ok(None);
        };
        let data = VersionData::deserialize(&data).map_err(|_| http::unreadable_answer())?;
        Ok(data.s_version.filter(|v| !v.is_empty()))
    }

    /// `GET /ota/south/download/{token}/check`: OneNET moves the task to "downloading". Repeating it
    /// while downloading is allowed (the official SDK calls it before every chunk).
    pub async fn check_download_token(&self, dev_id: &str, token: &str) -> Result<(), ApiError> {
        let dev_id = ids::dev_id(dev_id)?;
        let path = format!("{}/check", token_path(token)?);
        let query = DevQuery { dev_id };
        let raw = retry(&self.retry, "onenet token check", || async {
            let request = self.request(reqwest::Method::GET, &path)?.query(&query);
            http::send(request, &self.host).await
        })
        .await?;
        data_of(&raw, &self.host).map(|_| ())
    }

    /// `POST /ota/south/report`: a result code for the task behind `token`. Not retried: a report that
    /// arrived twice would be refused as "task finished" the second time.
    pub async fn report(
        &self,
        dev_id: &str,
        token: &str,
        code: u16,
    ) -> Result<OnenetReportAnswer, ApiError> {
        let Some(entry) = results::entry(code) else {
            return Err(
                ApiError::validation(format!("{code} is not a OneNET result code"))
                    .with_hint("Use one of 101–107 (download) or 201–208 (upgrade)."),
            );
        };
        token_path(token)?;
        let dev_id = ids::dev_id(dev_id)?;
        let query = ReportQuery { dev_id, token };
        let request = self
            .request(reqwest::Method::POST, REPORT)?
            .query(&query)
            .json(&ReportBody { result: code });
        let raw = http::send(request, &self.host).await?;
        match errno_of(&raw) {
            Some(0) => Ok(OnenetReportAnswer {
                code,
                accepted: true,
                message: format!("OneNET recorded {code}: {}.", entry.meaning),
            }),
            Some(errno) => Err(report_error(errno, error_of(&raw).as_deref(), code)),
            None => Err(raw
                .status_error(&self.host)
                .unwrap_or_else(http::unreadable_answer)),
        }
    }
}

fn envelope_of(raw: &RawResponse) -> Option<Envelope> {
    if !raw.may_carry_envelope() {
        return None;
    }
    serde_json::from_slice::<Envelope>(&raw.body).ok()
}

fn errno_of(raw: &RawResponse) -> Option<i64> {
    envelope_of(raw).and_then(|e| e.errno)
}

fn error_of(raw: &RawResponse) -> Option<String> {
    envelope_of(raw).and_then(|e| e.error)
}

/// The device a check acts for, from what the fleet cache knows of it.
pub fn device_ref(device: &ota_core::Device, task_type: OnenetTaskType) -> OnenetDeviceRef {
    OnenetDeviceRef {
        dev_id: device.id.clone(),
        manuf: device.manufacturer.clone().filter(|m| !m.is_empty()),
        model: Some(device.model.clone()).filter(|m| !m.is_empty()),
        version: device.firmware.clone(),
        task_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> OnenetDeviceRef {
        OnenetDeviceRef {
            dev_id: "527776559".into(),
            manuf: Some("102".into()),
            model: Some("10201".into()),
            version: "V1".into(),
            task_type: OnenetTaskType::Application,
        }
    }

    #[test]
    fn tokens_and_versions_are_checked_before_sending() {
        assert!(valid_download_token("ota_iF0hnXrq2CxLrP8vZ39l"));
        assert!(!valid_download_token("../admin"));
        assert!(!valid_download_token("ota_x?y=1"));
        assert!(!valid_download_token(""));
        assert!(valid_version("V1.2_3-rc"));
        assert!(!valid_version("V 1"));
        assert!(!valid_version(&"9".repeat(21)));
        let mut bad = device();
        bad.dev_id = "dev-1".into();
        assert_eq!(
            validate_device(&bad).unwrap_err().code,
            ErrorKind::Validation
        );
    }

    #[test]
    fn a_check_without_token_size_or_md5_is_not_a_task() {
        let full = CheckData {
            target: Some("V2".into()),
            token: Some("ota_iF0hnXrq2CxLrP8vZ39l".into()),
            size: Some(22),
            md5: Some("AD2F4E4EA2A27EACE7E4913139F8F01A".into()),
            signal: Some(10),
            power: Some(50),
            retry: Some(0),
            interval: Some(0),
            package_type: Some(1),
        };
        let task = task_from(&device(), full.clone()).unwrap();
        assert_eq!(task.md5, "ad2f4e4ea2a27eace7e4913139f8f01a");
        assert_eq!(task.package, OnenetPackageKind::Full);
        for broken in [
            CheckData {
                token: None,
                ..full.clone()
            },
            CheckData {
                size: Some(-1),
                ..full.clone()
            },
            CheckData {
                md5: Some("xyz".into()),
                ..full.clone()
            },
        ] {
            assert_eq!(
                task_from(&device(), broken).unwrap_err().code,
                ErrorKind::Retryable
            );
        }
    }

    #[test]
    fn report_errors_read_as_the_report_means_them() {
        assert!(report_error(2, None, 299).message.contains("299"));
        let done = report_error(20, None, 201);
        assert_eq!(done.code, ErrorKind::Conflict);
        assert_eq!(done.vendor_code.as_deref(), Some("errno 20"));
        assert_eq!(report_error(22, None, 201).code, ErrorKind::Conflict);
        assert_eq!(report_error(1, None, 201).code, ErrorKind::Auth);
        let early = report_error(21, Some("invalid operation"), 201);
        assert_eq!(early.code, ErrorKind::Conflict);
        assert!(
            early
                .message
                .contains("after the download was reported (101)"),
            "{}",
            early.message
        );
        assert!(report_error(21, None, 107)
            .message
            .contains("while the task is downloading"));
    }
}
