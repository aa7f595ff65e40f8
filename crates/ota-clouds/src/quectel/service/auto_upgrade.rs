//! The user auto-confirmation switch: read it, change it (audited), read it back.

use ota_core::quectel::QuectelAutoUpgrade;
use ota_core::{Account, ApiError, Cloud, Console};

use super::locate::{locate, Located, Session};

/// A change to a device's user auto-confirmation mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoUpgradeChange {
    On,
    Off,
    /// Deletes the device's setting (auto mode off).
    Delete,
}

/// Whether the device is in auto-confirmation mode, as the cloud says.
pub async fn auto_upgrade(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<QuectelAutoUpgrade, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    read_auto_upgrade(console, &located).await
}

async fn read_auto_upgrade(
    console: &Console,
    located: &Located,
) -> Result<QuectelAutoUpgrade, ApiError> {
    let session = Session::open(console, &located.account)?;
    let on = session
        .client()?
        .get_auto_upgrade(&located.product_key, &located.device_key)
        .await?;
    Ok(QuectelAutoUpgrade {
        device_key: located.device_key.clone(),
        on,
    })
}

/// Changes the switch; audited.
pub async fn change_auto_upgrade(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    change: AutoUpgradeChange,
) -> Result<Located, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let client = session.client()?;
    let (pk, dk) = (&located.product_key, &located.device_key);
    let (action, result) = match change {
        AutoUpgradeChange::On => (
            "quectel.auto_upgrade.on",
            client.set_auto_upgrade(pk, dk, true).await,
        ),
        AutoUpgradeChange::Off => (
            "quectel.auto_upgrade.off",
            client.set_auto_upgrade(pk, dk, false).await,
        ),
        AutoUpgradeChange::Delete => (
            "quectel.auto_upgrade.delete",
            client.delete_auto_upgrade(pk, dk).await,
        ),
    };
    console.audit(action, Some(Cloud::Quectel), Some(dk), &result);
    result?;
    Ok(located)
}

/// Changes the switch, then reads it back from the cloud (what the window shows is what the cloud holds).
pub async fn change_and_read_auto_upgrade(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    change: AutoUpgradeChange,
) -> Result<QuectelAutoUpgrade, ApiError> {
    let located = change_auto_upgrade(console, accounts, device_key, change).await?;
    read_auto_upgrade(console, &located).await
}
