//! Vicohome: otastart once, then otastatus.

use std::sync::Arc;

use async_trait::async_trait;
use ota_core::cloud::{
    FleetUpdates, PublishReceipt, PublishRequest, RemoteUpdate, UpdateTarget, VicohomeOta,
    VicohomeOtaStatus,
};
use ota_core::progress::{vicohome_sample, JobPhase};
use ota_core::{ApiError, ErrorKind};

use super::no_upload_api;
use crate::sandbox_admin::SimAdmin;
use crate::vicohome::VicohomeClient;

pub struct VicohomeUpdates {
    pub client: Arc<VicohomeClient>,
    /// The simulator's management API, for a sandbox account only.
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

    /// The camera's details (selectsingledevice): the firmware it runs now.
    async fn reported_version(&self, target: &UpdateTarget) -> Result<Option<String>, ApiError> {
        self.client.current_firmware(&target.device_id).await
    }

    async fn publish(&self, package: &PublishRequest) -> Result<PublishReceipt, ApiError> {
        let Some(admin) = &self.admin else {
            return Err(no_upload_api(
                "Vicohome",
                "Vicohome releases firmware through its own release process. Once the cloud offers this version to your cameras (their “newest firmware”), a campaign can roll it out.",
            ));
        };
        let devices = admin
            .offer_vicohome_firmware(&package.version, package.size, package.model.as_deref())
            .await?;
        Ok(PublishReceipt {
            detail: format!("offered to {devices} cameras"),
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
}
