//! Fleet versions: which firmware the cached fleet runs per cloud and model, how far behind the newest it
//! is, how updates to each version went, and the last 30 days' failures; exported as CSV.

use std::path::PathBuf;

pub use ota_core::fleet_versions::{
    compare_versions, suggested_file_name, FailureDay, FleetVersions, ModelVersions, VersionCount,
    VersionSuccess,
};

use crate::{ApiError, App};

/// Where a fleet-versions export went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetVersionsExported {
    /// Rows written (one per cloud, model and version).
    #[ts(type = "number")]
    pub rows: usize,
    pub path: String,
}

impl App {
    /// Versions per cloud and model from the device cache, success per version, failures per day.
    pub fn fleet_versions(&self) -> Result<FleetVersions, ApiError> {
        ota_core::fleet_versions::fleet_versions(&self.console)
    }

    /// Writes the fleet versions as CSV to `path` (a temp file renamed into place, never through a link).
    pub async fn export_fleet_versions(
        &self,
        path: PathBuf,
    ) -> Result<FleetVersionsExported, ApiError> {
        let console = self.console.clone();
        let shown = path.display().to_string();
        let rows =
            crate::blocking(move || ota_core::fleet_versions::export(&console, &path)).await?;
        Ok(FleetVersionsExported { rows, path: shown })
    }
}
