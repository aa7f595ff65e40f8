//! Quectel: the device's upgrade plan, confirmed ("upgrade now") or retried after a failure.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use ota_core::cloud::{FleetUpdates, PublishReceipt, PublishRequest, RemoteUpdate, UpdateTarget};
use ota_core::quectel::plans::{confirm_status, device_status};
use ota_core::quectel::{PlanTarget, UpgradePlan};
use ota_core::Device;
use ota_core::{ApiError, ErrorKind};

use super::no_upload_api;
use crate::quectel::QuectelClient;
use crate::sandbox_admin::SimAdmin;

pub struct QuectelUpdates {
    pub client: Arc<QuectelClient>,
    /// The simulator's management API, for a sandbox account only.
    pub admin: Option<SimAdmin>,
    /// The account's device list as last read, with when that read began: verified success shares it.
    listing: tokio::sync::Mutex<Option<(Instant, Arc<Vec<Device>>)>>,
}

impl QuectelUpdates {
    pub fn new(client: Arc<QuectelClient>, admin: Option<SimAdmin>) -> Self {
        Self {
            client,
            admin,
            listing: tokio::sync::Mutex::new(None),
        }
    }

    /// The device list as read no earlier than `asked_at`. The end-user API has no per-device read, so
    /// every device a campaign finishes would otherwise cost a whole listing: callers that ask while one
    /// read is under way wait for it and then share one read begun after all of them asked (a read begun
    /// before a caller asked may predate its device's new version, so it is never reused for that caller).
    async fn devices_since(&self, asked_at: Instant) -> Result<Arc<Vec<Device>>, ApiError> {
        let mut listing = self.listing.lock().await;
        if let Some((began, devices)) = listing.as_ref() {
            if *began >= asked_at {
                return Ok(devices.clone());
            }
        }
        let began = Instant::now();
        let devices = Arc::new(crate::quectel::devices::list_devices(&self.client).await?);
        *listing = Some((began, devices.clone()));
        Ok(devices)
    }

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
        (_, Some(confirm_status::CANCELLED)) => RemoteUpdate::Failed(
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
        (_, Some(confirm_status::UPGRADE_NOW)) => RemoteUpdate::Updating {
            percent: plan.percent(),
            state: "confirmed".into(),
        },
        (_, Some(confirm_status::APPOINTED)) => RemoteUpdate::Updating {
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

    /// The device as the account's device list shows it from a read begun after this call (the end-user
    /// API has no per-device read; concurrent calls share one read).
    async fn reported_version(&self, target: &UpdateTarget) -> Result<Option<String>, ApiError> {
        let devices = self.devices_since(Instant::now()).await?;
        Ok(super::version_in(&devices, target))
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
        let plan_name = format!("OTA Console {}", package.version);
        let mut plans = Vec::new();
        for product_key in &package.product_keys {
            let created = admin
                .create_quectel_plan(product_key, &package.version, &plan_name)
                .await?;
            if let Some(id) = created {
                plans.push(id.to_string());
            }
        }
        Ok(PublishReceipt {
            detail: format!("upgrade plan {}", plans.join(", ")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            quectel_update(&plan(0, 2)),
            RemoteUpdate::Updating {
                percent: 0,
                state: "appointed".into()
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
