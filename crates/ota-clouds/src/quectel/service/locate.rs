//! Finding a Quectel device: its account and productKey from the cached fleet, and the account's
//! signed-in client.

use std::collections::HashMap;
use std::sync::Arc;

use ota_core::cloud::{CloudSession, QuectelEndUserApi};
use ota_core::quectel::PlanTarget;
use ota_core::store::MAX_PAGE_SIZE;
use ota_core::{Account, ApiError, Cloud, Console, Device, DeviceQuery};

/// The Quectel accounts among `accounts`; an error saying how to add one when there is none.
pub fn quectel_accounts(accounts: &[Account]) -> Result<Vec<Account>, ApiError> {
    let found: Vec<Account> = accounts
        .iter()
        .filter(|a| a.cloud == Cloud::Quectel)
        .cloned()
        .collect();
    if found.is_empty() {
        return Err(
            ApiError::not_found("No Quectel account is configured.").with_hint(
                "Add one in Settings (or `otactl accounts add --cloud quectel ...`), or use the sandbox.",
            ),
        );
    }
    Ok(found)
}

/// A Quectel device as the calls need it: its account, productKey and deviceKey, and the fleet's row.
#[derive(Debug, Clone)]
pub struct Located {
    pub account: Account,
    pub product_key: String,
    pub device_key: String,
    pub device: Option<Device>,
}

impl Located {
    fn of(account: &Account, device: Device) -> Option<Self> {
        Some(Self {
            account: account.clone(),
            product_key: device.product_key.clone()?,
            device_key: device.id.clone(),
            device: Some(device),
        })
    }

    pub fn target(&self, plan_id: i64) -> PlanTarget {
        PlanTarget {
            product_key: self.product_key.clone(),
            device_key: self.device_key.clone(),
            plan_id,
        }
    }

    pub(super) fn bluetooth(&self) -> bool {
        self.device
            .as_ref()
            .and_then(|d| d.transport.as_deref())
            .is_some_and(|t| t.eq_ignore_ascii_case("ble"))
    }

    pub(super) fn name(&self) -> String {
        self.device
            .as_ref()
            .map(|d| d.name.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.device_key)
            .to_string()
    }
}

/// Keeps an account's session alive while its Quectel API is borrowed.
pub struct Session(Arc<dyn CloudSession>);

impl Session {
    pub fn open(console: &Console, account: &Account) -> Result<Self, ApiError> {
        Ok(Self(console.session(account)?))
    }

    /// The account's Quectel end-user API; an error for an account of another cloud.
    pub fn client(&self) -> Result<&dyn QuectelEndUserApi, ApiError> {
        self.0
            .quectel()
            .ok_or_else(|| ApiError::internal("no Quectel client for this account"))
    }
}

/// The account and productKey of a deviceKey, from the cache (refreshed once when it is missing).
pub async fn locate(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<Located, ApiError> {
    let accounts = quectel_accounts(accounts)?;
    let device_key = device_key.trim();
    for attempt in 0..2 {
        for device in console.store().find_device(Cloud::Quectel, device_key)? {
            if let Some(account) = accounts.iter().find(|a| a.id == device.account_id) {
                return Located::of(account, device).ok_or_else(|| {
                    ApiError::not_found(format!("The cloud gave no productKey for {device_key}."))
                });
            }
        }
        if attempt == 0 {
            console.refresh_accounts(&accounts).await?;
        }
    }
    Err(
        ApiError::not_found(format!("No Quectel account lists the device {device_key}."))
            .with_hint("Check the deviceKey, or name the account it belongs to (--account)."),
    )
}

/// When [`cached_devices`] asks the cloud for the fleet first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetRefresh {
    Always,
    /// Only when the cache holds no Quectel device of these accounts.
    IfEmpty,
    Never,
}

/// Every cached Quectel device of these accounts that has a productKey, in the cache's order.
pub async fn cached_devices(
    console: &Console,
    accounts: &[Account],
    refresh: FleetRefresh,
) -> Result<Vec<Located>, ApiError> {
    let accounts = quectel_accounts(accounts)?;
    if refresh == FleetRefresh::Always {
        console.refresh_accounts(&accounts).await?;
    }
    let mut found = read_cached_devices(console, &accounts)?;
    if found.is_empty() && refresh == FleetRefresh::IfEmpty {
        console.refresh_accounts(&accounts).await?;
        found = read_cached_devices(console, &accounts)?;
    }
    Ok(found)
}

fn read_cached_devices(console: &Console, accounts: &[Account]) -> Result<Vec<Located>, ApiError> {
    let by_id: HashMap<i64, &Account> = accounts.iter().map(|a| (a.id, a)).collect();
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let page = console.devices(&DeviceQuery {
            cloud: Some(Cloud::Quectel),
            offset,
            limit: MAX_PAGE_SIZE,
            ..Default::default()
        })?;
        let count = page.rows.len() as u32;
        for device in page.rows {
            if let Some(account) = by_id.get(&device.account_id) {
                found.extend(Located::of(account, device));
            }
        }
        offset += count;
        // A capped count ("10 000+") is a floor: only a short page ends the list then.
        if count < MAX_PAGE_SIZE || (!page.matching_at_least && offset >= page.matching) {
            break;
        }
    }
    Ok(found)
}
