//! The firmware library: add a package (hashed while copied; identical bytes stored once), list, delete
//! (refused while a campaign uses it), publish to a cloud.

use std::path::PathBuf;

pub use ota_core::library::{
    describe_size, validate_version, FirmwareAdded, FirmwareDetails, FirmwareEntry,
    FirmwarePublication,
};

use ota_core::library;

use crate::{Account, ApiError, App};

/// Which account a package is published to.
#[derive(Debug, Clone)]
pub enum PublishTo {
    Account(i64),
    Named(String),
    /// The one account of the package's cloud in scope.
    OnlyOneInScope,
}

/// A publication and what the user should be told on the way.
#[derive(Debug, Clone)]
pub struct Published {
    pub entry: FirmwareEntry,
    pub account: Account,
    /// What the cloud did, in words (plan id, task count, models offered it).
    pub detail: String,
    pub notices: Vec<String>,
}

impl App {
    pub fn firmware(&self) -> Result<Vec<FirmwareEntry>, ApiError> {
        library::list_firmware(&self.console)
    }

    /// Adds the file at `path` (hashing and copying run off the async runtime).
    pub async fn add_firmware(
        &self,
        path: PathBuf,
        details: FirmwareDetails,
    ) -> Result<FirmwareAdded, ApiError> {
        let console = self.console.clone();
        crate::blocking(move || library::add_firmware_file(&console, &path, &details)).await
    }

    pub fn delete_firmware(&self, id: i64) -> Result<FirmwareEntry, ApiError> {
        library::delete_firmware(&self.console, id)
    }

    /// Makes the package the update a cloud offers (sandbox clouds; a real cloud says where to do it).
    /// Quectel plans are per product, so the fleet is fetched first when the cache holds none of the
    /// package's cloud.
    pub async fn publish_firmware(&self, id: i64, to: PublishTo) -> Result<Published, ApiError> {
        self.wait_ready().await;
        let entry = self.console.store().firmware(id)?;
        let account = match to {
            PublishTo::Account(account_id) => self.console.store().account(account_id)?,
            PublishTo::Named(name) => self
                .console
                .store()
                .account_by_name(&name)?
                .ok_or_else(|| ApiError::not_found(format!("No account named “{name}”.")))?,
            PublishTo::OnlyOneInScope => match self.scope_of(entry.cloud)?.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(ApiError::not_found(format!(
                        "No {} account to publish to.",
                        entry.cloud.label()
                    ))
                    .with_hint("Add one, or use --sandbox."))
                }
                _ => {
                    return Err(ApiError::validation(format!(
                        "Several {} accounts: name one with --to.",
                        entry.cloud.label()
                    )))
                }
            },
        };
        let notices = self.ensure_fleet_cached(Some(entry.cloud)).await?;
        let published = library::publish_firmware(self.console.clone(), id, account.id).await?;
        let detail = published
            .publications
            .iter()
            .find(|p| p.account_id == account.id)
            .map(|p| p.detail.clone())
            .unwrap_or_default();
        Ok(Published {
            entry: published,
            account,
            detail,
            notices,
        })
    }
}
