//! Each cloud's own per-device update mechanism, as campaigns and the firmware library use it
//! ([`FleetUpdates`]): Vicohome start + status, Quectel plan confirm (or retry) + plan status, OneNET
//! tasks. Publishing goes to the simulator's management endpoints for sandbox accounts; for a real
//! account of a cloud whose upload API is not known, the answer says so and where to do it instead.

use std::sync::Arc;

use async_trait::async_trait;
use ota_core::cloud::{
    CloudSession, FleetUpdates, PublishReceipt, PublishRequest, RemoteUpdate, UpdateTarget,
    VicohomeOta, VicohomeOtaStatus,
};
use ota_core::progress::{vicohome_sample, JobPhase};
use ota_core::{ApiError, Device, ErrorKind};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::{self, BaseUrl};
use crate::onenet::OnenetClient;
use crate::quectel::plans::{device_status, PlanTarget, UpgradePlan};
use crate::quectel::QuectelClient;
use crate::vicohome::VicohomeClient;

/// The simulator's management API (`/_sim/...`), reached at a sandbox account's base URL.
#[derive(Clone)]
pub struct SimAdmin {
    http: reqwest::Client,
    base: BaseUrl,
}

impl SimAdmin {
    pub fn new(http: reqwest::Client, base: BaseUrl) -> Self {
        Self { http, base }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        let host = self.base.host_label();
        let mut request = self
            .http
            .request(method, self.base.endpoint(path))
            .query(query);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = http::send(request, &host).await?;
        let value: Value =
            serde_json::from_slice(&answer.body).map_err(|_| http::unreadable_answer())?;
        if answer.status.is_success() {
            return Ok(value);
        }
        let why = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("refused")
            .to_string();
        let kind = match answer.status.as_u16() {
            400 => ErrorKind::Validation,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            _ => ErrorKind::Retryable,
        };
        Err(ApiError::new(
            kind,
            format!("The sandbox refused it: {why}."),
        ))
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value, ApiError> {
        self.call(reqwest::Method::POST, path, &[], Some(body))
            .await
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.call(reqwest::Method::GET, path, query, None).await
    }
}

/// A signed-in client with its update mechanism: every other call goes to the client itself.
pub struct WithUpdates {
    pub inner: Arc<dyn CloudSession>,
    pub updates: Box<dyn FleetUpdates>,
}

#[async_trait]
impl CloudSession for WithUpdates {
    async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        self.inner.list_devices().await
    }

    async fn verify(&self) -> Result<String, ApiError> {
        self.inner.verify().await
    }

    fn vicohome(&self) -> Option<&dyn VicohomeOta> {
        self.inner.vicohome()
    }

    fn fleet_updates(&self) -> Option<&dyn FleetUpdates> {
        Some(self.updates.as_ref())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        self.inner.as_any()
    }
}

fn no_upload_api(cloud: &str, instead: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Validation,
        format!("{cloud} publishes no API for uploading firmware, so OTA Console cannot publish it there."),
    )
    .with_hint(instead.to_string())
}

// ---------------------------------------------------------------------------------------------------
// Vicohome: otastart once, then otastatus.

pub struct VicohomeUpdates {
    pub client: Arc<VicohomeClient>,
    pub admin: Option<SimAdmin>,
}

fn vicohome_update(status: &VicohomeOtaStatus, version: &str) -> RemoteUpdate {
    if let Some(err) = &status.error {
        return RemoteUpdate::Failed(err.clone());
    }
    let sample = vicohome_sample(status.ota_status, status.transferred, status.total, 0);
    match sample.phase {
        JobPhase::Complete => {
            if status
                .target_firmware
                .as_deref()
                .is_none_or(|t| t == version)
            {
                RemoteUpdate::Succeeded
            } else {
                RemoteUpdate::Idle
            }
        }
        phase if phase.is_failure() => RemoteUpdate::Failed(
            ApiError::new(ErrorKind::Device, "The camera's update failed.")
                .with_hint("Check its Wi-Fi and power, then retry the failed devices."),
        ),
        JobPhase::Starting | JobPhase::Downloading | JobPhase::Installing if status.in_progress => {
            RemoteUpdate::Updating {
                percent: sample.percent,
                state: match sample.phase {
                    JobPhase::Starting => "starting",
                    JobPhase::Downloading => "downloading",
                    _ => "installing",
                }
                .to_string(),
            }
        }
        _ => RemoteUpdate::Idle,
    }
}

#[async_trait]
impl FleetUpdates for VicohomeUpdates {
    fn unsupported(&self, _target: &UpdateTarget, _transport: Option<&str>) -> Option<String> {
        None
    }

    async fn observe(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        let status = self.client.ota_status(&target.device_id).await?;
        Ok(vicohome_update(&status, &target.version))
    }

    async fn start(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        match self.client.start_ota(&target.device_id).await {
            Ok(status) => Ok(match vicohome_update(&status, &target.version) {
                // Accepted: the camera is about to report its first step.
                RemoteUpdate::Idle => RemoteUpdate::Updating {
                    percent: 0,
                    state: "starting".into(),
                },
                other => other,
            }),
            // "No update": it may already run the version (e.g. finished before a restart).
            Err(err) if err.vendor_code.as_deref() == Some("-102") => {
                match self.client.current_firmware(&target.device_id).await {
                    Ok(Some(current)) if current == target.version => Ok(RemoteUpdate::Succeeded),
                    _ => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    async fn publish(&self, package: &PublishRequest) -> Result<PublishReceipt, ApiError> {
        let Some(admin) = &self.admin else {
            return Err(no_upload_api(
                "Vicohome",
                "Vicohome releases firmware through its own release process. Once the cloud offers this version to your cameras (their “newest firmware”), a campaign can roll it out.",
            ));
        };
        let mut body = json!({ "version": package.version, "size": package.size });
        if let Some(model) = &package.model {
            body["model"] = json!(model);
        }
        let answer = admin.post("/_sim/vicohome/firmware", body).await?;
        let devices = answer.get("devices").and_then(Value::as_u64).unwrap_or(0);
        Ok(PublishReceipt {
            detail: format!("offered to {devices} cameras"),
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// Quectel: the device's upgrade plan, confirmed ("upgrade now") or retried after a failure.

pub struct QuectelUpdates {
    pub client: Arc<QuectelClient>,
    pub admin: Option<SimAdmin>,
}

impl QuectelUpdates {
    async fn plan(&self, target: &UpdateTarget) -> Result<UpgradePlan, ApiError> {
        let product_key = target.product_key.as_deref().ok_or_else(|| {
            ApiError::validation(format!(
                "{} has no product key; refresh the fleet.",
                target.device_id
            ))
        })?;
        let plan = self
            .client
            .get_plan(product_key, &target.device_id)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "Quectel has no upgrade plan for {}.",
                    target.device_id
                ))
                .with_hint("Publish the firmware (or create the plan in the Developer Center), then retry.")
            })?;
        match plan.target_version() {
            Some(v) if v == target.version => Ok(plan),
            other => Err(ApiError::not_found(format!(
                "{}'s upgrade plan installs {}, not {}.",
                target.device_id,
                other.unwrap_or("an unnamed version"),
                target.version
            ))
            .with_hint("Publish this firmware so the device gets a plan for it, then retry.")),
        }
    }
}

fn quectel_update(plan: &UpgradePlan) -> RemoteUpdate {
    const UPGRADE_NOW: i64 = 1;
    const APPOINTED: i64 = 2;
    const CANCELLED: i64 = 3;
    let desc = plan.device_status_desc.clone();
    match (plan.device_status, plan.user_confirm_status) {
        (Some(device_status::SUCCEEDED | device_status::ALREADY_LATEST), _) => {
            RemoteUpdate::Succeeded
        }
        (Some(device_status::FAILED), _) => RemoteUpdate::Failed(
            ApiError::new(
                ErrorKind::Device,
                format!(
                    "The device's upgrade failed ({}).",
                    desc.as_deref().unwrap_or("upgrade failed")
                ),
            )
            .with_vendor_code("deviceStatus 3")
            .with_hint("Check the device's power and connection; retry the failed devices."),
        ),
        (_, Some(CANCELLED)) => RemoteUpdate::Failed(
            ApiError::new(
                ErrorKind::Conflict,
                "The plan was cancelled for this device.",
            )
            .with_vendor_code("userConfirmStatus 3"),
        ),
        (Some(device_status::UPGRADING), _) => RemoteUpdate::Updating {
            percent: plan.percent(),
            state: "upgrading".into(),
        },
        (_, Some(UPGRADE_NOW)) => RemoteUpdate::Updating {
            percent: plan.percent(),
            state: "confirmed".into(),
        },
        (_, Some(APPOINTED)) => RemoteUpdate::Updating {
            percent: 0,
            state: "appointed".into(),
        },
        _ => RemoteUpdate::Idle,
    }
}

#[async_trait]
impl FleetUpdates for QuectelUpdates {
    fn unsupported(&self, _target: &UpdateTarget, transport: Option<&str>) -> Option<String> {
        (transport == Some("ble")).then(|| {
            "A Bluetooth device: it updates through a phone, one at a time (Bluetooth update in its details)."
                .to_string()
        })
    }

    async fn observe(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        Ok(quectel_update(&self.plan(target).await?))
    }

    async fn start(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        let plan = self.plan(target).await?;
        let plan_target = plan
            .target()
            .ok_or_else(|| ApiError::internal("the plan has no id"))?;
        let failed_before = plan.device_status == Some(device_status::FAILED);
        let targets: [PlanTarget; 1] = [plan_target];
        let outcome = if failed_before {
            self.client.retry_upgrade(&targets).await?
        } else {
            self.client.confirm_upgrade(&targets).await?
        };
        if let Some(refused) = outcome
            .fail_list
            .iter()
            .find(|r| r.device_key.as_deref() == Some(target.device_id.as_str()))
        {
            return Err(refused.error());
        }
        Ok(RemoteUpdate::Updating {
            percent: 0,
            state: "confirmed".into(),
        })
    }

    async fn publish(&self, package: &PublishRequest) -> Result<PublishReceipt, ApiError> {
        let Some(admin) = &self.admin else {
            return Err(no_upload_api(
                "Quectel's end-user API",
                "Create the upgrade plan in the Quectel Developer Center; a campaign then confirms it device by device.",
            ));
        };
        if package.product_keys.is_empty() {
            return Err(ApiError::validation(
                "No cached Quectel device has this model: refresh the fleet or check the model.",
            ));
        }
        let mut plans = Vec::new();
        for product_key in &package.product_keys {
            let answer = admin
                .post(
                    "/_sim/quectel/plans",
                    json!({
                        "productKey": product_key,
                        "targetVersion": package.version,
                        "planName": format!("OTA Console {}", package.version),
                    }),
                )
                .await?;
            if let Some(id) = answer.get("planId").and_then(Value::as_i64) {
                plans.push(id.to_string());
            }
        }
        Ok(PublishReceipt {
            detail: format!("upgrade plan {}", plans.join(", ")),
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// OneNET: a task per device. OneNET publishes no management API; the sandbox has its own.

pub struct OnenetUpdates {
    pub client: Arc<OnenetClient>,
    pub admin: Option<SimAdmin>,
}

/// A task as the simulator's `/_sim/onenet/tasks` shows it.
#[derive(Debug, Deserialize)]
struct SimTask {
    task_id: u64,
    target: String,
    state: String,
    #[serde(default)]
    progress: Option<f64>,
    #[serde(default)]
    last_result: Option<i64>,
    #[serde(default)]
    error: Option<String>,
}

fn onenet_update(task: &SimTask) -> RemoteUpdate {
    match task.state.as_str() {
        "succeeded" => RemoteUpdate::Succeeded,
        "failed" => {
            let code = task.last_result.unwrap_or(0);
            let meaning = u16::try_from(code)
                .ok()
                .and_then(crate::onenet::results::entry)
                .map(|e| e.meaning.to_string())
                .or_else(|| task.error.clone())
                .unwrap_or_else(|| "the device reported a failure".into());
            RemoteUpdate::Failed(
                ApiError::new(
                    ErrorKind::Device,
                    format!("The device's upgrade failed: {meaning}."),
                )
                .with_vendor_code(format!("result {code}"))
                .with_hint("Check the device, then retry the failed devices."),
            )
        }
        "cancelled" => RemoteUpdate::Failed(
            ApiError::new(
                ErrorKind::Conflict,
                "The device's OneNET task was cancelled.",
            )
            .with_vendor_code("task cancelled"),
        ),
        state => RemoteUpdate::Updating {
            percent: task.progress.unwrap_or(0.0).clamp(0.0, 100.0) as u8,
            state: state.to_string(),
        },
    }
}

impl OnenetUpdates {
    fn admin(&self) -> Result<&SimAdmin, ApiError> {
        self.admin.as_ref().ok_or_else(|| {
            no_upload_api(
                "OneNET",
                "Create the upgrade task in the OneNET console; the device then fetches it itself.",
            )
        })
    }
}

#[async_trait]
impl FleetUpdates for OnenetUpdates {
    fn unsupported(&self, _target: &UpdateTarget, _transport: Option<&str>) -> Option<String> {
        self.admin.is_none().then(|| {
            "OneNET has no public API to create upgrade tasks: create them in the OneNET console.".to_string()
        })
    }

    async fn observe(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        let admin = self.admin()?;
        let answer = admin
            .get(
                "/_sim/onenet/tasks",
                &[("dev_id", target.device_id.as_str())],
            )
            .await?;
        let tasks: Vec<SimTask> =
            serde_json::from_value(answer).map_err(|_| http::unreadable_answer())?;
        Ok(tasks
            .iter()
            .filter(|t| t.target == target.version)
            .max_by_key(|t| t.task_id)
            .map(onenet_update)
            .unwrap_or(RemoteUpdate::Idle))
    }

    async fn start(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        let admin = self.admin()?;
        let answer = admin
            .post(
                "/_sim/onenet/tasks",
                json!({
                    "dev_id": target.device_id,
                    "target": target.version,
                    "size": target.size,
                    "autonomous": true,
                }),
            )
            .await?;
        let task: SimTask =
            serde_json::from_value(answer).map_err(|_| http::unreadable_answer())?;
        Ok(onenet_update(&task))
    }

    async fn publish(&self, package: &PublishRequest) -> Result<PublishReceipt, ApiError> {
        self.admin()?;
        let _ = &self.client;
        Ok(PublishReceipt {
            detail: format!(
                "{} registered; a OneNET task is created for each device as a campaign reaches it",
                package.version
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(ota_status: i32, in_progress: bool, target: Option<&str>) -> VicohomeOtaStatus {
        VicohomeOtaStatus {
            serial: "SN".into(),
            in_progress,
            ota_status,
            transferred: 50,
            total: 100,
            target_firmware: target.map(str::to_string),
            error: None,
        }
    }

    #[test]
    fn vicohome_states() {
        assert_eq!(
            vicohome_update(&status(1, true, None), "2.0.0"),
            RemoteUpdate::Updating {
                percent: 45,
                state: "downloading".into()
            }
        );
        assert_eq!(
            vicohome_update(&status(3, false, Some("2.0.0")), "2.0.0"),
            RemoteUpdate::Succeeded
        );
        assert_eq!(
            vicohome_update(&status(3, false, Some("1.9.0")), "2.0.0"),
            RemoteUpdate::Idle
        );
        assert_eq!(
            vicohome_update(&status(0, false, None), "2.0.0"),
            RemoteUpdate::Idle
        );
        assert!(matches!(
            vicohome_update(&status(5, false, None), "2.0.0"),
            RemoteUpdate::Failed(_)
        ));
    }

    #[test]
    fn quectel_states() {
        let plan = |device_status: i64, confirm: i64| UpgradePlan {
            device_status: Some(device_status),
            user_confirm_status: Some(confirm),
            upgrade_progress: Some(0.4),
            ..Default::default()
        };
        assert_eq!(quectel_update(&plan(0, 0)), RemoteUpdate::Idle);
        assert_eq!(
            quectel_update(&plan(0, 1)),
            RemoteUpdate::Updating {
                percent: 40,
                state: "confirmed".into()
            }
        );
        assert_eq!(quectel_update(&plan(2, 1)), RemoteUpdate::Succeeded);
        assert!(
            matches!(quectel_update(&plan(3, 1)), RemoteUpdate::Failed(e) if e.code == ErrorKind::Device)
        );
        assert!(
            matches!(quectel_update(&plan(0, 3)), RemoteUpdate::Failed(e) if e.code == ErrorKind::Conflict)
        );
    }
}
