//! Quectel upgrade plans as the window and `otactl` run them: find each device's account and productKey
//! in the fleet cache, read plans (cached in the store), act on batches of plans with an answer per
//! device, the auto-upgrade switch and the Bluetooth flow — every change to the cloud in the audit log.
//!
//! Devices are named by deviceKey; the account and productKey come from the cached fleet (refreshed once
//! when a device is not in it). One module per use case: `locate` (a device's account and session),
//! `plans` (reading plans), `batch` (acting on plans), `auto_upgrade` and `ble`; everything is used as
//! `service::…`.

mod auto_upgrade;
mod batch;
mod ble;
mod locate;
mod plans;

pub use auto_upgrade::{
    auto_upgrade, change_and_read_auto_upgrade, change_auto_upgrade, AutoUpgradeChange,
};
pub use batch::{act, decide, Decision};
pub use ble::{
    ble_download, ble_download_dir, ble_fetch, ble_fetch_plan, ble_report, ble_status,
    ble_statuses, package_view, BleDownloadOptions,
};
pub use locate::{cached_devices, locate, quectel_accounts, FleetRefresh, Located, Session};
pub use plans::{
    actions_of, cached_plan_list, plan_details, plan_details_of, plan_list, read_plans, remember,
    row, state_of, targets_by_account,
};
