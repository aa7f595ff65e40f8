//! What the coordinator records of its device tasks: a batch of device changes with the audit records of
//! their starts and rule failures, in one fenced transaction, then told to the host's observer.

use super::{RuleFailure, RunnerControl};
use crate::campaign::lease::{HeldLease, LeaseError};
use crate::console::{Console, DataKind};
use crate::error::ApiError;
use crate::library::FirmwareEntry;
use crate::model::Cloud;
use crate::store::{AuditRecord, DeviceUpdate};

/// Records a batch of device changes with the audit records of their starts and rule failures (one
/// fenced transaction), then tells the observer what it recorded.
pub(super) fn write_batch(
    console: &Console,
    lease: &HeldLease,
    control: &RunnerControl,
    firmware: &FirmwareEntry,
    updates: &[DeviceUpdate],
    starts: &[(Cloud, String, Result<(), ApiError>, bool)],
    rule_failures: &[RuleFailure],
) -> Result<(), LeaseError> {
    let id = lease.campaign_id();
    let version = &firmware.version;
    let targets: Vec<String> = starts
        .iter()
        .map(|(_, device, _, _)| format!("campaign #{id}: {device} → {version}"))
        .collect();
    let details: Vec<Option<String>> = starts
        .iter()
        .map(|(_, _, result, recovered)| {
            let error = result.as_ref().err().map(ApiError::display_line);
            match (recovered, error) {
                (true, Some(e)) => Some(format!("found after a restart: {e}")),
                (true, None) => Some("found after a restart".to_string()),
                (false, e) => e,
            }
        })
        .collect();
    let rule_targets: Vec<String> = rule_failures
        .iter()
        .map(|(_, device, _, _)| format!("campaign #{id}: {device} → {version}"))
        .collect();
    let rule_details: Vec<String> = rule_failures
        .iter()
        .map(|(_, _, _, error)| error.display_line())
        .collect();
    let records: Vec<AuditRecord<'_>> = starts
        .iter()
        .zip(targets.iter().zip(&details))
        .map(|((cloud, _, result, _), (target, detail))| AuditRecord {
            actor: console.actor(),
            action: "campaign.device.start",
            cloud: Some(*cloud),
            target: Some(target),
            result: if result.is_ok() { "ok" } else { "error" },
            detail: detail.as_deref(),
        })
        .chain(
            rule_failures
                .iter()
                .zip(rule_targets.iter().zip(&rule_details))
                .map(|((cloud, _, action, _), (target, detail))| AuditRecord {
                    actor: console.actor(),
                    action,
                    cloud: Some(*cloud),
                    target: Some(target),
                    result: "error",
                    detail: Some(detail),
                }),
        )
        .collect();
    lease.write(|fence| {
        console
            .store()
            .apply_device_updates(fence, updates, &records)
    })?;
    if !records.is_empty() {
        console.notify(DataKind::Audit);
    }
    control.observe(|o| {
        for (cloud, _, _, recovered) in starts {
            if !recovered {
                o.device_started(id, *cloud);
            }
        }
        for update in updates {
            if let DeviceUpdate::Failed { error, .. } = update {
                o.device_failed(id, firmware.cloud, error.code);
            }
        }
    });
    Ok(())
}
