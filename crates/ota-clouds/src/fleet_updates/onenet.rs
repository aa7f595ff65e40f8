//! OneNET: a task per device. OneNET publishes no API to create tasks; a sandbox account creates and
//! reads them through the simulator's management API.

use std::sync::Arc;

use async_trait::async_trait;
use ota_core::cloud::{FleetUpdates, PublishReceipt, PublishRequest, RemoteUpdate, UpdateTarget};
use ota_core::{ApiError, ErrorKind};

use super::no_upload_api;
use crate::onenet::OnenetClient;
use crate::sandbox_admin::{SimAdmin, SimTask};

pub struct OnenetUpdates {
    pub client: Arc<OnenetClient>,
    /// The simulator's management API, for a sandbox account only.
    pub admin: Option<SimAdmin>,
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
        let tasks = self.admin()?.onenet_tasks(&target.device_id).await?;
        Ok(tasks
            .iter()
            .filter(|t| t.target == target.version)
            .max_by_key(|t| t.task_id)
            .map(onenet_update)
            .unwrap_or(RemoteUpdate::Idle))
    }

    async fn start(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        let task = self
            .admin()?
            .create_onenet_task(&target.device_id, &target.version, target.size)
            .await?;
        Ok(onenet_update(&task))
    }

    /// The application version the device last reported (`GET /ota/device/version`).
    async fn reported_version(&self, target: &UpdateTarget) -> Result<Option<String>, ApiError> {
        self.client.device_version(&target.device_id).await
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

    fn task(state: &str, last_result: Option<i64>) -> SimTask {
        SimTask {
            task_id: 1,
            target: "V2".into(),
            state: state.into(),
            progress: Some(40.0),
            last_result,
            error: None,
        }
    }

    #[test]
    fn onenet_states() {
        assert_eq!(
            onenet_update(&task("succeeded", None)),
            RemoteUpdate::Succeeded
        );
        assert_eq!(
            onenet_update(&task("downloading", None)),
            RemoteUpdate::Updating {
                percent: 40,
                state: "downloading".into()
            }
        );
        let RemoteUpdate::Failed(failed) = onenet_update(&task("failed", Some(107))) else {
            panic!("a failed task is a failure");
        };
        assert_eq!(failed.code, ErrorKind::Device);
        assert_eq!(failed.vendor_code.as_deref(), Some("result 107"));
        assert!(
            matches!(onenet_update(&task("cancelled", None)), RemoteUpdate::Failed(e) if e.code == ErrorKind::Conflict)
        );
    }
}
