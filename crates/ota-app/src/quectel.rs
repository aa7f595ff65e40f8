//! Quectel Developer Center: upgrade plans (read, confirm, appoint, cancel, retry, batch details), the
//! auto-upgrade switch and the Bluetooth flow. Devices are named by deviceKey; their account and
//! productKey come from the cached fleet (refreshed once when a device is not in it).

use std::path::Path;

pub use ota_clouds::quectel::plans::{confirm_status, device_status};
pub use ota_clouds::quectel::service::{AutoUpgradeChange, Decision};
pub use ota_clouds::quectel::{BlePlan, BleReportStatus, UpgradePlan};
pub use ota_core::quectel::*;

use ota_clouds::quectel::plans::validate_appointment;
use ota_clouds::quectel::service::{self, BleDownloadOptions, FleetRefresh};

use crate::{ApiError, App};

/// A plan as one device's cloud reports it.
#[derive(Debug, Clone)]
pub struct DevicePlan {
    pub device_key: String,
    pub plan: UpgradePlan,
}

/// A Bluetooth package downloaded and verified against the plan's SHA-256.
#[derive(Debug, Clone)]
pub struct BlePackage {
    pub path: std::path::PathBuf,
    pub size: u64,
    pub sha256: String,
}

impl App {
    /// Every cached Quectel device's plan for the window's list: `cached` answers from the store alone
    /// (instant, no request); otherwise each device's plan is asked of the cloud.
    pub async fn quectel_plan_list(&self, cached: bool) -> Result<QuectelPlanList, ApiError> {
        self.wait_ready().await;
        let accounts = self.scope()?;
        if cached {
            service::cached_plan_list(&self.console, &accounts).await
        } else {
            service::plan_list(&self.console, &accounts).await
        }
    }

    /// The plans of one device, or of every Quectel device in scope (the fleet refreshed first).
    pub async fn quectel_plans(
        &self,
        device_key: Option<&str>,
    ) -> Result<Vec<DevicePlan>, ApiError> {
        let accounts = self.scope()?;
        let located = match device_key {
            Some(device_key) => vec![service::locate(&self.console, &accounts, device_key).await?],
            None => service::cached_devices(&self.console, &accounts, FleetRefresh::Always).await?,
        };
        let mut found = Vec::new();
        for (device, result) in service::read_plans(&self.console, located).await {
            if let Some(plan) = result? {
                found.push(DevicePlan {
                    device_key: device.device_key,
                    plan,
                });
            }
        }
        Ok(found)
    }

    /// Confirms, appoints (inside `window`), cancels or retries each plan; an answer per device.
    pub async fn quectel_act(
        &self,
        items: &[QuectelPlanItem],
        action: QuectelPlanAction,
        window: Option<QuectelWindow>,
    ) -> Result<QuectelActionReport, ApiError> {
        service::act(&self.console, &self.scope()?, items, action, window).await
    }

    /// Whether `window` keeps the appointment rules for a plan running from `plan_start` to `plan_end`
    /// (Unix ms; unknown ends are not checked): it ends after it starts, lies inside the plan period and
    /// lasts at least one hour. The window asks this as the user picks, before anything is sent; an
    /// appointment is checked again, against the cloud's plan, when it is sent.
    pub fn check_quectel_appointment(
        &self,
        plan_start: Option<i64>,
        plan_end: Option<i64>,
        window: QuectelWindow,
    ) -> Result<(), ApiError> {
        validate_appointment(plan_start, plan_end, window.start_ms, window.end_ms)
    }

    /// As [`App::quectel_act`], with the cloud's batch answer as it came.
    pub async fn quectel_decide(
        &self,
        items: &[QuectelPlanItem],
        action: QuectelPlanAction,
        window: Option<QuectelWindow>,
    ) -> Result<Decision, ApiError> {
        service::decide(&self.console, &self.scope()?, items, action, window).await
    }

    /// The plans' status per device now, as rows of the window's list.
    pub async fn quectel_plan_details(
        &self,
        items: &[QuectelPlanItem],
    ) -> Result<Vec<QuectelPlanRow>, ApiError> {
        service::plan_details(&self.console, &self.scope()?, items).await
    }

    /// A plan's status per device (every cached Quectel device in scope when `device_keys` is empty).
    pub async fn quectel_batch_details(
        &self,
        plan_id: i64,
        device_keys: Vec<String>,
    ) -> Result<Vec<UpgradePlan>, ApiError> {
        let accounts = self.scope()?;
        let device_keys = if device_keys.is_empty() {
            service::cached_devices(&self.console, &accounts, FleetRefresh::IfEmpty)
                .await?
                .into_iter()
                .map(|d| d.device_key)
                .collect()
        } else {
            device_keys
        };
        let items: Vec<QuectelPlanItem> = device_keys
            .into_iter()
            .map(|device_key| QuectelPlanItem {
                device_key,
                plan_id,
            })
            .collect();
        Ok(service::plan_details_of(&self.console, &accounts, &items)
            .await?
            .into_iter()
            .map(|(_, plan)| plan)
            .collect())
    }

    /// The device's auto-upgrade switch.
    pub async fn quectel_auto_upgrade(
        &self,
        device_key: &str,
    ) -> Result<QuectelAutoUpgrade, ApiError> {
        self.wait_ready().await;
        service::auto_upgrade(&self.console, &self.scope()?, device_key).await
    }

    /// Turns the switch on or off, or deletes the setting (off), and answers what the cloud then holds.
    pub async fn quectel_change_auto_upgrade(
        &self,
        device_key: &str,
        change: AutoUpgradeChange,
    ) -> Result<QuectelAutoUpgrade, ApiError> {
        service::change_and_read_auto_upgrade(&self.console, &self.scope()?, device_key, change)
            .await
    }

    /// The Bluetooth plan of a device, for the window.
    pub async fn quectel_ble_plan(
        &self,
        device_key: &str,
    ) -> Result<Option<QuectelBlePlan>, ApiError> {
        service::ble_fetch(&self.console, &self.scope()?, device_key).await
    }

    /// The Bluetooth plan as the cloud sent it, with the device's deviceKey.
    pub async fn quectel_ble_fetch(
        &self,
        device_key: &str,
    ) -> Result<(String, Option<BlePlan>), ApiError> {
        let (located, plan) =
            service::ble_fetch_plan(&self.console, &self.scope()?, device_key).await?;
        Ok((located.device_key, plan))
    }

    /// Reports a step of the Bluetooth update (`componentNo`: the plan's unless given).
    pub async fn quectel_ble_report(
        &self,
        device_key: &str,
        status: BleReportStatus,
        component_no: Option<String>,
    ) -> Result<QuectelBleReported, ApiError> {
        service::ble_report(
            &self.console,
            &self.scope()?,
            device_key,
            status,
            component_no,
        )
        .await
    }

    /// Downloads the Bluetooth package into the data folder, reporting "downloading" and then
    /// "downloaded" (or the failure), as the vendor's flow does.
    pub async fn quectel_ble_download(
        &self,
        device_key: &str,
        progress: &mut (dyn FnMut(QuectelBleProgress) + Send),
    ) -> Result<QuectelBlePackage, ApiError> {
        let dir = service::ble_download_dir(&self.data_dir, device_key);
        let package = service::ble_download(
            &self.console,
            &self.scope()?,
            device_key,
            &dir,
            BleDownloadOptions { report_steps: true },
            progress,
        )
        .await?;
        Ok(service::package_view(device_key, &package))
    }

    /// Downloads the Bluetooth package into `dir` (kept only when its SHA-256 matches the plan); no step
    /// is reported.
    pub async fn quectel_ble_download_to(
        &self,
        device_key: &str,
        dir: &Path,
    ) -> Result<BlePackage, ApiError> {
        let package = service::ble_download(
            &self.console,
            &self.scope()?,
            device_key,
            dir,
            BleDownloadOptions::default(),
            &mut |_| {},
        )
        .await?;
        Ok(BlePackage {
            path: package.path,
            size: package.size,
            sha256: package.sha256,
        })
    }
}

/// Every Bluetooth report status, for the window's menu.
pub fn ble_statuses() -> Vec<QuectelBleStatus> {
    service::ble_statuses()
}

/// The report status with this code (0–12), or why there is none.
pub fn ble_status(code: i64) -> Result<BleReportStatus, ApiError> {
    service::ble_status(code)
}
