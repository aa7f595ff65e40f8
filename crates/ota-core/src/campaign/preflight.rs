//! Pre-flight: the devices a campaign targets (a filter, a list, a cohort) resolved against the cached
//! fleet, and for each whether it will take the firmware and why not; the plan `create` writes and
//! continuous campaigns reuse when devices start matching later.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::cloud::UpdateTarget;
use crate::console::Console;
use crate::error::ApiError;
use crate::library::FirmwareEntry;
use crate::model::{Cloud, Device};
use crate::store::cohorts::CohortFilter;

use super::model::*;
use super::{continuous, rules};

/// Most exclusions listed by a pre-flight answer (all are counted).
const LISTED_EXCLUSIONS: usize = 500;

/// The devices a campaign targets, resolved against the cached fleet.
pub(super) fn resolve_targets(
    console: &Console,
    targets: &CampaignTargets,
) -> Result<Vec<Result<Device, DeviceKey>>, ApiError> {
    let store = console.store();
    Ok(match targets {
        CampaignTargets::Filter { query } => {
            store.matching_devices(query)?.into_iter().map(Ok).collect()
        }
        CampaignTargets::Devices { devices } => listed(console, devices)?,
        CampaignTargets::Cohort { cohort_id } => match store.cohort_filter(*cohort_id)? {
            CohortFilter::Static => listed(console, &store.cohort_device_keys(*cohort_id)?)?,
            CohortFilter::Dynamic(query) => store
                .matching_devices(&query)?
                .into_iter()
                .map(Ok)
                .collect(),
        },
    })
}

/// Listed devices from the cache, each once (`Err`: not cached).
fn listed(
    console: &Console,
    devices: &[DeviceKey],
) -> Result<Vec<Result<Device, DeviceKey>>, ApiError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(devices.len());
    for key in devices {
        if !seen.insert(key.clone()) {
            continue;
        }
        out.push(
            console
                .store()
                .device(key.account_id, &key.device_id)?
                .ok_or_else(|| key.clone()),
        );
    }
    Ok(out)
}

/// What a cloud needs to update one device to `firmware` (pre-flight and runner alike).
pub(crate) fn update_target(
    device_id: &str,
    product_key: Option<&str>,
    model: &str,
    firmware: &FirmwareEntry,
) -> UpdateTarget {
    UpdateTarget {
        device_id: device_id.to_string(),
        product_key: product_key.map(str::to_string),
        model: model.to_string(),
        version: firmware.version.clone(),
        size: firmware.size,
        md5: firmware.md5.clone(),
    }
}

/// Why `device` will not take `firmware`, if it will not.
pub(super) fn exclusion(
    console: &Console,
    firmware: &FirmwareEntry,
    settings: &CampaignSettings,
    device: &Device,
    busy: &std::collections::HashSet<(i64, String)>,
    in_campaign: &HashMap<(i64, String), i64>,
    unsupported: &mut HashMap<i64, Result<Arc<dyn crate::cloud::CloudSession>, ApiError>>,
) -> Option<(SkipReason, String)> {
    let version = &firmware.version;
    if device.cloud != firmware.cloud {
        return Some((
            SkipReason::WrongCloud,
            format!(
                "A {} device; the firmware is for {}.",
                device.cloud.label(),
                firmware.cloud.label()
            ),
        ));
    }
    if let Some(model) = &firmware.model {
        if &device.model != model {
            return Some((
                SkipReason::WrongModel,
                format!("Model {}; the firmware is for {model}.", device.model),
            ));
        }
    }
    if device.firmware == *version {
        return Some((
            SkipReason::AlreadyOnTarget,
            format!("Already runs {version}."),
        ));
    }
    let key = (device.account_id, device.id.clone());
    // Overlap: a device of another active campaign (not finished, or still updating) is left out.
    if let Some(campaign) = in_campaign.get(&key) {
        return Some((SkipReason::InCampaign, format!("in campaign {campaign}")));
    }
    if busy.contains(&key) {
        return Some((
            SkipReason::Busy,
            "Another update is working on it.".to_string(),
        ));
    }
    if !device.online {
        return Some((
            SkipReason::Offline,
            "Offline at the last refresh.".to_string(),
        ));
    }
    if let Some(battery) = device.battery {
        if battery < settings.min_battery {
            return Some((
                SkipReason::LowBattery,
                format!(
                    "Battery {battery} %, below the campaign's {} %.",
                    settings.min_battery
                ),
            ));
        }
    }
    if device.cloud == Cloud::Vicohome
        && device.newest_firmware.as_deref() != Some(version.as_str())
    {
        return Some((
            SkipReason::NotOffered,
            format!(
                "The cloud offers {} to this camera, not {version}: publish the firmware first.",
                device.newest_firmware.as_deref().unwrap_or("no update")
            ),
        ));
    }
    let session = unsupported.entry(device.account_id).or_insert_with(|| {
        let account = console.store().account(device.account_id)?;
        console.session(&account)
    });
    let target = update_target(
        &device.id,
        device.product_key.as_deref(),
        &device.model,
        firmware,
    );
    match session {
        Err(err) => Some((SkipReason::Unsupported, err.display_line())),
        Ok(session) => match session.fleet_updates() {
            None => Some((
                SkipReason::Unsupported,
                format!(
                    "{} devices cannot be updated by a campaign.",
                    device.cloud.label()
                ),
            )),
            Some(updates) => updates
                .unsupported(&target, device.transport.as_deref())
                .map(|why| (SkipReason::Unsupported, why)),
        },
    }
}

pub(super) struct Plan {
    pub(super) preflight: Preflight,
    pub(super) firmware: FirmwareEntry,
    /// Every target with its wave (None = left out, with why).
    pub(super) rows: Vec<(Device, Option<u32>, Option<String>)>,
}

pub(super) fn plan(console: &Console, new: &NewCampaign) -> Result<Plan, ApiError> {
    rules::validate(&new.settings)?;
    if let Some(r) = &new.rules {
        rules::validate_rules(r)?;
    }
    continuous::check_targets(console, new)?;
    let continuous = new.rules.as_ref().is_some_and(|r| r.continuous);
    let firmware = console.store().firmware(new.firmware_id)?;
    let targets = resolve_targets(console, &new.targets)?;
    // A continuous campaign may begin with no device: it waits for devices to match.
    if targets.is_empty() && !continuous {
        return Err(ApiError::validation(
            "No devices match: choose devices or a filter that lists some.",
        ));
    }
    let busy = console.store().busy_devices()?;
    let in_campaign = console.store().devices_in_active_campaigns()?;
    let mut sessions = HashMap::new();
    let mut excluded = Vec::new();
    let mut by_reason: BTreeMap<SkipReason, u32> = BTreeMap::new();
    let mut eligible = Vec::new();
    let mut rows = Vec::new();
    for target in targets {
        match target {
            Err(key) => {
                *by_reason.entry(SkipReason::Unknown).or_default() += 1;
                if excluded.len() < LISTED_EXCLUSIONS {
                    excluded.push(PreflightExclusion {
                        account_id: key.account_id,
                        device_id: key.device_id.clone(),
                        name: String::new(),
                        model: String::new(),
                        reason: SkipReason::Unknown,
                        detail: "Not in the device list; refresh the fleet.".into(),
                    });
                }
            }
            Ok(device) => match exclusion(
                console,
                &firmware,
                &new.settings,
                &device,
                &busy,
                &in_campaign,
                &mut sessions,
            ) {
                Some((reason, detail)) => {
                    *by_reason.entry(reason).or_default() += 1;
                    if excluded.len() < LISTED_EXCLUSIONS {
                        excluded.push(PreflightExclusion {
                            account_id: device.account_id,
                            device_id: device.id.clone(),
                            name: device.name.clone(),
                            model: device.model.clone(),
                            reason,
                            detail: detail.clone(),
                        });
                    }
                    // Another cloud's devices are not the campaign's at all; the rest are listed as skipped.
                    if reason != SkipReason::WrongCloud {
                        rows.push((device, None, Some(format!("{}: {detail}", reason.label()))));
                    }
                }
                None => eligible.push(device),
            },
        }
    }
    let wave_sizes = rules::wave_sizes(eligible.len() as u32, &new.settings.waves);
    let mut eligible = eligible.into_iter();
    for (wave, size) in wave_sizes.iter().enumerate() {
        for device in eligible.by_ref().take(*size as usize) {
            rows.push((device, Some(wave as u32), None));
        }
    }
    let total = rows.len() as u32
        + by_reason.get(&SkipReason::WrongCloud).copied().unwrap_or(0)
        + by_reason.get(&SkipReason::Unknown).copied().unwrap_or(0);
    let preflight = Preflight {
        targets: total,
        eligible: wave_sizes.iter().sum(),
        wave_sizes,
        by_reason: by_reason
            .into_iter()
            .map(|(reason, count)| ReasonCount {
                reason,
                label: reason.label().to_string(),
                count,
            })
            .collect(),
        excluded,
    };
    Ok(Plan {
        preflight,
        firmware,
        rows,
    })
}

/// What a campaign would do: how many devices take it, in which waves, and which will not and why.
pub fn preflight(console: &Console, new: &NewCampaign) -> Result<Preflight, ApiError> {
    Ok(plan(console, new)?.preflight)
}
