//! OTA of Bluetooth devices: the app fetches the plan, reports the user's confirmation, downloads and
//! verifies the package, updates the device over BLE, and reports each step.
//!
//! The plan, the report table ([`BleReportStatus`], our mapping of the codes 0–12 Quectel does not
//! explain) and the verified package are `ota_core::quectel::ble`'s; they are re-exported here.

use std::path::Path;
use std::time::Duration;

use ota_core::{ApiError, ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

pub use ota_core::quectel::ble::{BlePlan, BleReportStatus, VerifiedPackage, REPORT_STATUSES};

use super::answers::BlePlanAnswer;
use super::client::QuectelClient;
use super::endpoints::Endpoint;
use crate::download_files;
use crate::http::{self, BaseUrl};
use crate::retry::retry;

/// The most bytes a Bluetooth package may have, whatever its plan says. BLE firmware is kilobytes to a few
/// megabytes; this only stops a server that never stops sending from filling the disk.
pub const MAX_PACKAGE_BYTES: u64 = 512 * 1024 * 1024;

/// No byte for this long ends a package download as stalled.
pub const PACKAGE_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The shared client's whole-request timeout (30 s) would fail every large package on a slow link, so the
/// package request gets this one instead: reqwest takes a per-request deadline but not its absence, and a
/// week is none in practice. What ends a dead download is the idle timeout, per read.
const NO_WHOLE_REQUEST_DEADLINE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How a package download guards against a stalled or endless answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLimits {
    /// Waiting longer than this for the answer, or for the next bytes of it, ends the download.
    pub idle_timeout: Duration,
    /// The most bytes kept when the plan gives no `fileSize`; a plan announcing more is refused. With a
    /// `fileSize`, that is the cap.
    pub max_bytes: u64,
}

impl Default for PackageLimits {
    fn default() -> Self {
        Self {
            idle_timeout: PACKAGE_IDLE_TIMEOUT,
            max_bytes: MAX_PACKAGE_BYTES,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    product_key: &'a str,
    device_key: &'a str,
    component_no: &'a str,
    report_status: i64,
}

/// The plan in `data`: the object itself, or the first of `data.components[]`.
fn plan_of(data: &Value) -> Option<BlePlan> {
    let object = match data.get("components") {
        Some(Value::Array(list)) => list.first()?,
        _ => data,
    };
    BlePlanAnswer::deserialize(object)
        .ok()
        .map(BlePlan::from)
        .filter(|p| p.file_url.is_some() || p.plan_id.is_some())
}

fn download_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::Retryable, message).with_hint("Retry the download.")
}

/// "30 s", or "250 ms" under a second.
fn duration_text(duration: Duration) -> String {
    if duration >= Duration::from_secs(1) {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

fn stalled(host: &str, idle: Duration) -> ApiError {
    ApiError::new(
        ErrorKind::Offline,
        format!(
            "The package download from {host} stalled: nothing arrived for {}; nothing was kept.",
            duration_text(idle)
        ),
    )
    .with_hint("Check the network connection (and any VPN or proxy), then retry the download.")
}

/// A server that sends (or announces) more than the cap: stopped before the excess is written.
fn oversized(host: &str, cap: u64, announced: bool) -> ApiError {
    let limit = if announced {
        format!("the {cap} bytes the plan announced")
    } else {
        format!("the {cap} bytes the console accepts for a Bluetooth package")
    };
    ApiError::new(
        ErrorKind::Validation,
        format!("{host} sent more than {limit}; the download was stopped and nothing was kept."),
    )
    .with_hint(
        "The server is not sending the package the plan describes. Retry later; if it happens again, \
         report failed-download and tell the product's maker.",
    )
}

impl QuectelClient {
    /// The Bluetooth device's upgrade plan, or `None` when there is none.
    pub async fn fetch_plan(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<Option<BlePlan>, ApiError> {
        let query = Endpoint::GetFetchPlan.device_query(product_key, device_key);
        let data = retry(&self.retry, "quectel BLE plan", || {
            self.call_ok(Endpoint::GetFetchPlan, &query)
        })
        .await?;
        Ok(data.as_ref().and_then(plan_of))
    }

    /// Reports a step or the result of a Bluetooth upgrade.
    pub async fn report_status(
        &self,
        product_key: &str,
        device_key: &str,
        component_no: &str,
        status: BleReportStatus,
    ) -> Result<(), ApiError> {
        let body = Report {
            product_key,
            device_key,
            component_no,
            report_status: status.code(),
        };
        self.call_ok(Endpoint::ReportUpgradeStatus, &body)
            .await
            .map(|_| ())
    }

    /// Downloads the plan's package into `dir`, streamed and hashed on the way. The file is left only
    /// when its SHA-256 matches `fileSign` (and its size `fileSize`); otherwise it is removed and the
    /// error says so. No Authorization header goes to `fileUrl` (it may be a CDN).
    ///
    /// No deadline for the whole download (a large package on a slow link takes what it takes), but one
    /// per read ([`PackageLimits::idle_timeout`]), and a size cap: the plan's `fileSize`, never more than
    /// [`PackageLimits::max_bytes`]. A server sending more is cut off before the excess is written.
    pub async fn download_package(
        &self,
        plan: &BlePlan,
        dir: &Path,
    ) -> Result<VerifiedPackage, ApiError> {
        self.download_package_with_progress(plan, dir, &mut |_| {})
            .await
    }

    /// [`QuectelClient::download_package`], calling `progress` with the bytes received so far after
    /// every chunk.
    pub async fn download_package_with_progress(
        &self,
        plan: &BlePlan,
        dir: &Path,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<VerifiedPackage, ApiError> {
        let raw_url = plan
            .file_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| ApiError::not_found("The plan names no package to download."))?;
        let expected = plan
            .file_sign
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::validation(
                    "The plan gives no SHA-256 (fileSign); the package cannot be verified.",
                )
            })?;
        let url = if raw_url.starts_with('/') {
            self.base.endpoint(raw_url)
        } else {
            raw_url.to_string()
        };
        let base = BaseUrl::parse(&url)?;
        let host = base.host_label();
        let name = plan
            .file_name
            .as_deref()
            .and_then(|n| Path::new(n).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && n != "." && n != "..")
            .unwrap_or_else(|| format!("quectel-plan-{}.bin", plan.plan_id.unwrap_or(0)));
        let path = dir.join(&name);
        let partial = dir.join(format!("{name}.part"));
        let limits = self.package_limits;
        let announced = plan.file_size.and_then(|s| u64::try_from(s).ok());
        if let Some(size) = announced.filter(|size| *size > limits.max_bytes) {
            return Err(ApiError::validation(format!(
                "The plan's package is {size} bytes, more than the {} bytes the console accepts for a \
                 Bluetooth package; nothing was downloaded.",
                limits.max_bytes
            )));
        }
        let cap = announced.unwrap_or(limits.max_bytes);

        let mut response = self
            .request_package(&url, &host, limits.idle_timeout)
            .await?;
        if response.content_length().is_some_and(|length| length > cap) {
            return Err(oversized(&host, cap, announced.is_some()));
        }
        let io_error = |e: std::io::Error| {
            ApiError::internal(format!("Cannot write {}: {e}", partial.display()))
        };
        // Never through a link planted at the `.part`, 0600, and locked until it is renamed or deleted,
        // so the window and otactl never write the same package (a Bluetooth download starts afresh).
        let part_file = download_files::open_private(&partial)?;
        download_files::lock(&part_file, &partial, download_files::LOCK_PATIENCE)?;
        part_file.set_len(0).map_err(io_error)?;
        let lock_holder = part_file.try_clone().map_err(io_error)?;
        let mut file = tokio::fs::File::from_std(part_file);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let streamed: Result<(), ApiError> = async {
            while let Some(chunk) = next_chunk(&mut response, limits.idle_timeout, &host).await? {
                if size.saturating_add(chunk.len() as u64) > cap {
                    return Err(oversized(&host, cap, announced.is_some()));
                }
                hasher.update(&chunk);
                size += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(io_error)?;
                progress(size);
            }
            file.flush().await.map_err(io_error)?;
            Ok(())
        }
        .await;
        drop(file);
        let verdict = streamed.and_then(|()| {
            let actual = ota_core::hex::lower_hex(&hasher.finalize());
            if let Some(want) = plan.file_size.filter(|s| *s >= 0) {
                if want as u64 != size {
                    return Err(download_error(format!(
                        "The package is {size} bytes, the plan says {want}; it was deleted."
                    )));
                }
            }
            if actual != expected {
                return Err(ApiError::new(
                    ErrorKind::Device,
                    "The package's SHA-256 does not match the plan's fileSign; it was deleted.",
                )
                .with_hint("Download it again; if it keeps failing, report failed-checksum."));
            }
            Ok(actual)
        });
        match verdict {
            Ok(sha256) => {
                tokio::fs::rename(&partial, &path).await.map_err(|e| {
                    ApiError::internal(format!(
                        "Cannot move the package to {}: {e}",
                        path.display()
                    ))
                })?;
                Ok(VerifiedPackage { path, size, sha256 })
            }
            Err(err) => {
                let _ = tokio::fs::remove_file(&partial).await;
                drop(lock_holder);
                Err(err)
            }
        }
    }

    /// The package's answer, its status checked. Only the idle timeout bounds the wait for it.
    async fn request_package(
        &self,
        url: &str,
        host: &str,
        idle: Duration,
    ) -> Result<reqwest::Response, ApiError> {
        crate::ratelimit::acquire(host).await;
        let request = self.http.get(url).timeout(NO_WHOLE_REQUEST_DEADLINE);
        let sent = tokio::time::timeout(idle, request.send())
            .await
            .map_err(|_| stalled(host, idle))?;
        http::note_request(host, &sent);
        let response = sent.map_err(|e| http::transport_error(&e, host))?;
        match http::status_error(response.status(), None, host) {
            Some(err) => Err(err),
            None => Ok(response),
        }
    }
}

/// The next piece of the answer, or `None` at its end; nothing for `idle` is a stall.
async fn next_chunk(
    response: &mut reqwest::Response,
    idle: Duration,
    host: &str,
) -> Result<Option<bytes::Bytes>, ApiError> {
    tokio::time::timeout(idle, response.chunk())
        .await
        .map_err(|_| stalled(host, idle))?
        .map_err(|e| http::transport_error(&e, host))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plan_shapes() {
        let flat =
            plan_of(&json!({"planId": 3, "fileUrl": "u", "fileSize": "10", "componentNo": 1}))
                .unwrap();
        assert_eq!((flat.plan_id, flat.file_size), (Some(3), Some(10)));
        assert_eq!(flat.component_no.as_deref(), Some("1"));
        let nested = plan_of(&json!({"components": [{"planId": 4, "fileUrl": "v"}]})).unwrap();
        assert_eq!(nested.plan_id, Some(4));
        assert!(plan_of(&json!({})).is_none());
    }

    #[test]
    fn the_report_sends_the_tables_names() {
        let report = Report {
            product_key: "p",
            device_key: "d",
            component_no: "0",
            report_status: BleReportStatus::Downloaded.code(),
        };
        let sent = serde_json::to_value(&report).unwrap();
        super::super::endpoints::assert_sends_row(Endpoint::ReportUpgradeStatus, &sent);
        assert_eq!(sent["reportStatus"], 2);
    }
}
