//! Continuous campaigns: only over targets that can gain devices (a filter, a dynamic cohort); while one
//! runs and is not closed, devices that start matching join its current wave after the same pre-flight
//! check (the runner calls [`join_new_devices`] when the fleet generation moved); `close` ends that.

use std::collections::HashMap;

use super::lease;
use super::model::*;
use super::{exclusion, resolve_targets};
use crate::console::{Console, DataKind};
use crate::error::{ApiError, ErrorKind};
use crate::library::FirmwareEntry;
use crate::model::Device;
use crate::store::cohorts::CohortFilter;

/// A continuous campaign needs targets that can gain devices: a filter or a dynamic cohort.
pub(super) fn check_targets(console: &Console, new: &NewCampaign) -> Result<(), ApiError> {
    if !new.rules.as_ref().is_some_and(|r| r.continuous) {
        return Ok(());
    }
    let dynamic = match &new.targets {
        CampaignTargets::Filter { .. } => true,
        CampaignTargets::Devices { .. } => false,
        CampaignTargets::Cohort { cohort_id } => matches!(
            console.store().cohort_filter(*cohort_id)?,
            CohortFilter::Dynamic(_)
        ),
    };
    if dynamic {
        Ok(())
    } else {
        Err(ApiError::validation(
            "A continuous campaign targets a filter or a dynamic cohort: a list of devices never gains any.",
        )
        .with_hint("Leave out --continuous, or target a filter or a dynamic cohort."))
    }
}

/// Closes a continuous campaign: no device joins it any more; it completes once the devices it has are
/// done. Audited (`campaign.close`).
pub fn close(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    let result = console.store().close_campaign(id).map_err(ApiError::from);
    super::audited(console, id, "campaign.close", result)
}

/// What a running continuous campaign targets now, resolved again (`None`: it targets a list, or its
/// cohort is gone).
fn current_targets(view: &CampaignView) -> Option<CampaignTargets> {
    match (view.cohort_id, &view.target_filter) {
        (Some(cohort_id), _) => Some(CampaignTargets::Cohort { cohort_id }),
        (None, Some(query)) => Some(CampaignTargets::Filter {
            query: query.clone(),
        }),
        (None, None) => None,
    }
}

/// A continuous campaign's runner: devices that match its targets now and are new to it (or were left out
/// by the pre-flight check and would now take the update) join its current wave, after the same
/// pre-flight check as at creation. Devices still left out are not recorded; they are checked again at
/// the next change. Answers how many joined (audited as `campaign.devices_added`).
pub(crate) fn join_new_devices(
    console: &Console,
    lease: &lease::HeldLease,
    view: &CampaignView,
    firmware: &FirmwareEntry,
) -> Result<u32, lease::LeaseError> {
    let api = |err: ApiError| lease::LeaseError::Store(err.into());
    let Some(targets) = current_targets(view) else {
        return Ok(0);
    };
    let store = console.store();
    let resolved = match resolve_targets(console, &targets) {
        Ok(resolved) => resolved,
        // The cohort was deleted meanwhile (only possible once it ended): nothing joins.
        Err(err) if err.code == ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(api(err)),
    };
    let known = store.campaign_device_states(view.id)?;
    let candidates: Vec<Device> = resolved
        .into_iter()
        .filter_map(Result::ok)
        .filter(|d| {
            matches!(
                known.get(&(d.account_id, d.id.clone())),
                None | Some(CampaignDeviceState::Skipped)
            )
        })
        .collect();
    if candidates.is_empty() {
        return Ok(0);
    }
    let busy = store.busy_devices()?;
    let in_campaign = store.devices_in_active_campaigns()?;
    let mut sessions = HashMap::new();
    let eligible: Vec<&Device> = candidates
        .iter()
        .filter(|d| {
            exclusion(
                console,
                firmware,
                &view.settings,
                d,
                &busy,
                &in_campaign,
                &mut sessions,
            )
            .is_none()
        })
        .collect();
    if eligible.is_empty() {
        return Ok(0);
    }
    let wave = view.current_wave.min(view.wave_count.saturating_sub(1));
    let joined =
        lease.write(|fence| store.join_campaign(fence, wave, &eligible, console.actor()))?;
    if joined > 0 {
        console.notify(DataKind::Audit);
        console.notify(DataKind::Campaigns);
    }
    Ok(joined)
}
