//! Tags and cohorts: tag devices, list the tags, create / list / show / delete cohorts. A cohort is a saved
//! group of devices a campaign can target (`TargetSpec::Cohort`); a dynamic one with `--continuous`
//! keeps taking devices that start matching.

pub use ota_core::campaign::model::DeviceKey;
pub use ota_core::cohort::{
    normalize_tag, Cohort, CohortDefinition, CohortDetail, CohortKind, NewCohort, TagCount,
};

use ota_core::cohort;

use crate::{ApiError, App};

impl App {
    /// Adds and removes tags on devices (cached ones; the whole call is refused otherwise); answers how
    /// many devices changed. Audited.
    pub fn tag_devices(
        &self,
        devices: &[DeviceKey],
        add: &[String],
        remove: &[String],
    ) -> Result<u32, ApiError> {
        cohort::tag_devices(&self.console, devices, add, remove)
    }

    /// Every tag with how many cached devices have it.
    pub fn list_tags(&self) -> Result<Vec<TagCount>, ApiError> {
        cohort::list_tags(&self.console)
    }

    /// Creates a static or dynamic cohort. Audited.
    pub fn create_cohort(&self, new: &NewCohort) -> Result<Cohort, ApiError> {
        cohort::create_cohort(&self.console, new)
    }

    /// Every cohort, by name, with its current device count.
    pub fn list_cohorts(&self) -> Result<Vec<Cohort>, ApiError> {
        cohort::list_cohorts(&self.console)
    }

    /// A cohort (by id or name) and the first page of its devices.
    pub fn cohort(&self, id_or_name: &str) -> Result<CohortDetail, ApiError> {
        cohort::cohort_detail(&self.console, id_or_name)
    }

    /// Deletes a cohort; refused (validation) while a campaign that has not ended targets it. Audited.
    pub fn delete_cohort(&self, id: i64) -> Result<Cohort, ApiError> {
        cohort::delete_cohort(&self.console, id)
    }

    /// The devices in scope with these ids (any cloud), as `otactl` names them: each must be cached for
    /// exactly one account in scope.
    pub fn device_keys(&self, ids: &[String]) -> Result<Vec<DeviceKey>, ApiError> {
        let mut devices = Vec::with_capacity(ids.len());
        for id in ids {
            let id = id.trim();
            match self.cached_devices_with_id(id)?.as_slice() {
                [one] => devices.push(DeviceKey {
                    account_id: one.account_id,
                    device_id: one.id.clone(),
                }),
                [] => {
                    return Err(ApiError::not_found(format!("No cached device {id}."))
                        .with_hint("`otactl devices list` refreshes and lists the fleet."))
                }
                _ => {
                    return Err(ApiError::validation(format!(
                        "Several accounts list {id}: name one with --account."
                    )))
                }
            }
        }
        Ok(devices)
    }
}
