//! The fleet: the cached device list (search, sort, pages), refreshing it from the clouds, and devices
//! added by hand (OneNET has no device listing for a device-side key).

pub use ota_core::store::{ManualDevice, MAX_PAGE_SIZE};

use crate::{Account, ApiError, App, Cloud, Device, DevicePage, DeviceQuery, FleetFreshness};

/// How large one device list may be: it is read whole and written in one transaction, so a list cannot
/// tie up the store for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    pub max_bytes: u64,
    pub max_devices: usize,
}

impl ImportLimits {
    /// A list pasted or chosen in the window's form: far more than any fleet typed by hand.
    pub const FORM: Self = Self {
        max_bytes: 1 << 20,
        max_devices: 10_000,
    };
    /// A file given to `otactl devices import`: a whole product's export.
    pub const FILE: Self = Self {
        max_bytes: 64 << 20,
        max_devices: 1_000_000,
    };
}

/// The cached fleet in scope, after a refresh that may have failed for some accounts.
#[derive(Debug, Clone)]
pub struct FleetListing {
    pub devices: Vec<Device>,
    /// Accounts whose refresh failed, with why: their cached devices are listed.
    pub stale: Vec<(String, ApiError)>,
}

impl App {
    /// One page of the cached fleet (search, filters, sort).
    pub fn devices(&self, query: &DeviceQuery) -> Result<DevicePage, ApiError> {
        self.console.devices(query)
    }

    /// How fresh each account's cached devices are.
    pub fn freshness(&self) -> Result<FleetFreshness, ApiError> {
        self.console.freshness()
    }

    /// Refreshes every account's devices from its cloud (after start-up has attached the sandbox).
    pub async fn refresh_fleet(&self) -> Result<FleetFreshness, ApiError> {
        self.wait_ready().await;
        self.console.refresh_fleet().await
    }

    /// Every device in scope matching `search` / `cloud`, refreshed from the clouds first unless `cached`.
    pub async fn list_fleet(
        &self,
        search: String,
        cloud: Option<Cloud>,
        cached: bool,
    ) -> Result<FleetListing, ApiError> {
        let query = DeviceQuery {
            search,
            cloud,
            ..Default::default()
        };
        self.list_fleet_matching(query, cached).await
    }

    /// Every device in scope matching `query` (search, cloud, status, tag, cohort; its paging ignored),
    /// refreshed from the clouds first unless `cached`.
    pub async fn list_fleet_matching(
        &self,
        query: DeviceQuery,
        cached: bool,
    ) -> Result<FleetListing, ApiError> {
        let scope = self.scope()?;
        let mut stale = Vec::new();
        if !cached {
            let freshness = self.console.refresh_accounts(&scope).await?;
            for account in freshness.accounts {
                if let Some(err) = account.error {
                    stale.push((account.account_name, err));
                }
            }
        }
        let ids: Vec<i64> = scope.iter().map(|a| a.id).collect();
        let mut devices = Vec::new();
        let mut query = DeviceQuery {
            limit: MAX_PAGE_SIZE,
            offset: 0,
            ..query
        };
        loop {
            let page = self.console.devices(&query)?;
            let count = page.rows.len() as u32;
            devices.extend(
                page.rows
                    .into_iter()
                    .filter(|d| ids.contains(&d.account_id)),
            );
            if count < query.limit {
                break;
            }
            query.offset += count;
        }
        Ok(FleetListing { devices, stale })
    }

    /// Adds the devices of a list (`dev_id,name,manufacturer,model,firmware` lines) to an account, within
    /// `limits`. All or nothing.
    pub fn import_devices(
        &self,
        account_id: i64,
        list: &str,
        limits: ImportLimits,
    ) -> Result<usize, ApiError> {
        let devices = parse_device_list(list, limits)?;
        self.console.add_manual_devices(account_id, &devices)
    }

    /// The one account in scope that devices are added to (`otactl --account NAME`).
    pub fn account_for_import(&self) -> Result<Account, ApiError> {
        match self.scope()?.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(ApiError::validation(
                "Name the account to add devices to with --account NAME.",
            )),
        }
    }

    /// When the cache holds no device of `cloud` (or none at all) for the accounts in scope, the fleet is
    /// fetched from the clouds first, so a new data folder works without a listing before it. Answers
    /// what the user should be told (that it fetches, and accounts that could not be reached).
    pub async fn ensure_fleet_cached(&self, cloud: Option<Cloud>) -> Result<Vec<String>, ApiError> {
        let accounts: Vec<Account> = self
            .scope()?
            .into_iter()
            .filter(|a| cloud.is_none_or(|c| a.cloud == c))
            .collect();
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let cached = self.console.store().device_counts_by_account()?;
        if accounts
            .iter()
            .any(|a| cached.get(&a.id).copied().unwrap_or(0) > 0)
        {
            return Ok(Vec::new());
        }
        let mut notices = vec![format!(
            "The cache holds no {}devices yet; fetching the fleet from the cloud first…",
            cloud.map(|c| format!("{} ", c.label())).unwrap_or_default()
        )];
        let freshness = self.console.refresh_accounts(&accounts).await?;
        for failed in freshness
            .accounts
            .iter()
            .filter(|a| accounts.iter().any(|b| b.id == a.account_id))
        {
            if let Some(err) = &failed.error {
                notices.push(format!(
                    "warning: {}: {} — run `otactl devices list` once it can be reached",
                    failed.account_name,
                    err.display_line()
                ));
            }
        }
        Ok(notices)
    }

    /// The id of a cohort named by id or name (for a device-list filter).
    pub fn cohort_id(&self, id_or_name: &str) -> Result<i64, ApiError> {
        Ok(ota_core::cohort::find_cohort(&self.console, id_or_name)?.id)
    }

    /// The cached devices in scope with this id (any cloud).
    pub(crate) fn cached_devices_with_id(&self, id: &str) -> Result<Vec<Device>, ApiError> {
        let scope = self.scope()?;
        Ok(self
            .console
            .store()
            .find_device_any(id)?
            .into_iter()
            .filter(|d| scope.iter().any(|a| a.id == d.account_id))
            .collect())
    }
}

/// The devices of a list, refused whole when it is over `limits`.
pub fn parse_device_list(list: &str, limits: ImportLimits) -> Result<Vec<ManualDevice>, ApiError> {
    if list.len() as u64 > limits.max_bytes {
        return Err(ApiError::validation(format!(
            "The device list is {}; at most {} is imported at once.",
            ota_core::library::describe_size(list.len() as u64),
            ota_core::library::describe_size(limits.max_bytes)
        ))
        .with_hint("Split it into smaller lists."));
    }
    let devices = ota_core::store::parse_device_csv(list)?;
    if devices.len() > limits.max_devices {
        return Err(ApiError::validation(format!(
            "The list has {} devices; at most {} are imported at once.",
            devices.len(),
            limits.max_devices
        ))
        .with_hint("Split it into smaller lists."));
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_list_over_the_limits_is_refused_whole() {
        let many: String = (0..=ImportLimits::FORM.max_devices)
            .map(|n| format!("{}\n", 100_000_000 + n))
            .collect();
        let err = parse_device_list(&many, ImportLimits::FORM).unwrap_err();
        assert_eq!(
            err.message,
            "The list has 10001 devices; at most 10000 are imported at once."
        );
        let long = format!("527776559,{}\n", "x".repeat(1 << 20));
        assert!(parse_device_list(&long, ImportLimits::FORM)
            .unwrap_err()
            .message
            .starts_with("The device list is 1.0 MiB; at most 1 MiB"));
        assert_eq!(
            parse_device_list("527776559,Pump 1\n", ImportLimits::FORM)
                .unwrap()
                .len(),
            1
        );
        // A file for otactl may be larger than the window's form takes.
        assert_eq!(
            parse_device_list(&many, ImportLimits::FILE).unwrap().len(),
            10_001
        );
    }
}

/// A device list read from a file, for the import form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceListFile {
    pub file_name: String,
    pub text: String,
}

/// Reads a device list: a regular file (never a device or a FIFO, which could block) of at most
/// `limits.max_bytes`, in UTF-8.
pub fn read_device_list(
    path: &std::path::Path,
    limits: ImportLimits,
) -> Result<DeviceListFile, ApiError> {
    use std::io::Read;
    let max = limits.max_bytes;
    let limit = format!(
        "a device list is at most {}",
        ota_core::library::describe_size(max)
    );
    let (file, _) = ota_core::library::open_regular_file(path, max, &limit)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut bytes = Vec::new();
    // The cap holds even for a file that grows while it is read.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ApiError::validation(format!("Cannot read {file_name}: {e}.")))?;
    if bytes.len() as u64 > max {
        return Err(ApiError::validation(format!(
            "{file_name} grew past {} while it was read.",
            ota_core::library::describe_size(max)
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::validation(format!("{file_name} is not a text file (UTF-8)."))
            .with_hint("Save the list as CSV (UTF-8) and choose it again.")
    })?;
    Ok(DeviceListFile { file_name, text })
}

impl App {
    /// Reads a device list file off the async runtime.
    pub async fn read_device_list(
        &self,
        path: std::path::PathBuf,
        limits: ImportLimits,
    ) -> Result<DeviceListFile, ApiError> {
        crate::blocking(move || read_device_list(&path, limits)).await
    }
}

#[cfg(test)]
mod file_tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_device_list_is_read_when_it_is_a_small_text_file() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("pumps.csv");
        std::fs::write(&list, "527776559,Pump 1\n").unwrap();
        let read = read_device_list(&list, ImportLimits::FORM).unwrap();
        assert_eq!(read.file_name, "pumps.csv");
        assert_eq!(read.text, "527776559,Pump 1\n");

        let big = dir.path().join("big.csv");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(ImportLimits::FORM.max_bytes + 1)
            .unwrap();
        let err = read_device_list(&big, ImportLimits::FORM).unwrap_err();
        assert_eq!(
            err.message,
            "big.csv is 1.0 MiB; a device list is at most 1 MiB."
        );

        let binary = dir.path().join("fw.bin");
        std::fs::write(&binary, [0xffu8, 0xfe, 0x00]).unwrap();
        assert!(read_device_list(&binary, ImportLimits::FORM)
            .unwrap_err()
            .message
            .contains("not a text file"));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_list_from_a_device_or_a_fifo_is_refused_without_blocking() {
        let err = read_device_list(Path::new("/dev/zero"), ImportLimits::FORM).unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("list.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(read_device_list(&fifo, ImportLimits::FORM).err());
        });
        let err = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO must not block")
            .expect("a FIFO is refused");
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
    }
}
