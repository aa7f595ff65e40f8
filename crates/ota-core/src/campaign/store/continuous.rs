//! Continuous campaigns: closing one, and devices that started matching joining it (with their
//! audit record, under the runner's lease).

use super::stored_state;
use crate::campaign::lease::{Fence, LeaseError};
use crate::campaign::model::CampaignDeviceState;
use crate::db::{params, SqlExt};
use crate::error::{ApiError, CoreResult, ErrorKind};
use crate::model::{now_ms, Device};
use crate::store::Store;

impl Store {
    /// Closes a continuous campaign: no device joins it any more, and it completes once its devices are
    /// done. Refused for a campaign that is not continuous, has ended, or is closed already.
    pub fn close_campaign(&self, id: i64) -> CoreResult<()> {
        self.write(|tx| {
            let state = stored_state(tx, id)?;
            let (continuous, closed): (bool, bool) = tx.query_row(
                "SELECT continuous, closed FROM campaigns WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let refuse = |kind: ErrorKind, why: String| -> CoreResult<()> {
                Err(ApiError::new(kind, why).into())
            };
            if !continuous {
                return refuse(
                    ErrorKind::Validation,
                    format!("Campaign #{id} is not continuous: it completes on its own."),
                );
            }
            if closed {
                return refuse(
                    ErrorKind::Conflict,
                    format!("Campaign #{id} is closed already."),
                );
            }
            if state.is_finished() {
                return refuse(
                    ErrorKind::Conflict,
                    format!(
                        "Campaign #{id} is {}; there is nothing to close.",
                        state.as_str()
                    ),
                );
            }
            tx.execute(
                "UPDATE campaigns SET closed = 1, updated_at = ?2 WHERE id = ?1",
                params![id, now_ms()],
            )?;
            Ok(())
        })
    }

    /// The state of every device row a campaign has (to tell which devices are new to it).
    pub fn campaign_device_states(
        &self,
        id: i64,
    ) -> CoreResult<std::collections::HashMap<(i64, String), CampaignDeviceState>> {
        self.read(|conn| {
            let rows = conn.query_map(
                "SELECT account_id, device_id, state FROM campaign_devices WHERE campaign_id = ?1",
                params![id],
                |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?),
                        CampaignDeviceState::parse(&r.get::<String>(2)?),
                    ))
                },
            )?;
            Ok(rows.into_iter().collect())
        })
    }

    /// A continuous campaign takes devices that started matching: each joins `wave` as pending (a row the
    /// pre-flight check had left out is reused), the wave counts as open again (a bake counts afresh), and
    /// the audit record is written in the same transaction, under the runner's lease. Only a campaign still
    /// open to devices (continuous, not closed, running or paused) takes them; answers how many joined.
    pub fn join_campaign(
        &self,
        fence: &Fence<'_>,
        wave: u32,
        devices: &[&Device],
        actor: &str,
    ) -> Result<u32, LeaseError> {
        let id = fence.campaign_id;
        self.write_fenced(fence, |tx| {
            // The flags are integers 0/1 on both engines (PostgreSQL has no AND of integers).
            let open: bool = tx.query_value(
                "SELECT continuous <> 0 AND closed = 0 AND state IN ('running', 'paused')
                 FROM campaigns WHERE id = ?1",
                params![id],
            )?;
            if !open || devices.is_empty() {
                return Ok(0);
            }
            let mut joined: Vec<&str> = Vec::new();
            let mut cloud = None;
            for d in devices {
                let n = tx.execute(
                    "INSERT INTO campaign_devices (campaign_id, account_id, device_id, cloud, product_key,
                                                   model, name, from_version, wave, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending')
                     ON CONFLICT (campaign_id, account_id, device_id) DO UPDATE SET
                        cloud = excluded.cloud, product_key = excluded.product_key, model = excluded.model,
                        name = excluded.name, from_version = excluded.from_version, wave = excluded.wave,
                        state = 'pending', error_code = NULL, error_message = NULL, error_hint = NULL,
                        vendor_code = NULL, next_attempt_at = NULL, finished_at = NULL
                     WHERE campaign_devices.state = 'skipped'",
                    params![
                        id,
                        d.account_id,
                        d.id,
                        d.cloud.as_str(),
                        d.product_key,
                        d.model,
                        d.name,
                        d.firmware,
                        wave
                    ],
                )?;
                if n > 0 {
                    joined.push(&d.id);
                    cloud = Some(d.cloud);
                }
            }
            if !joined.is_empty() {
                tx.execute(
                    "UPDATE campaigns SET wave_done_at = NULL, updated_at = ?2 WHERE id = ?1",
                    params![id, now_ms()],
                )?;
                let name: String =
                    tx.query_value("SELECT name FROM campaigns WHERE id = ?1", params![id])?;
                let target = format!("campaign #{id} {name}");
                let listed: Vec<&str> = joined.iter().take(20).copied().collect();
                let detail = format!(
                    "{} device{} joined wave {}: {}{}",
                    joined.len(),
                    if joined.len() == 1 { "" } else { "s" },
                    wave + 1,
                    listed.join(", "),
                    if joined.len() > listed.len() { ", …" } else { "" }
                );
                crate::store::audit::insert_audit(
                    tx,
                    &[crate::store::AuditRecord {
                        actor,
                        action: "campaign.devices_added",
                        cloud,
                        target: Some(&target),
                        result: "ok",
                        detail: Some(&detail),
                    }],
                )?;
            }
            Ok(joined.len() as u32)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{campaign, campaign_with_rules, device, fence, lease};
    use crate::campaign::model::{CampaignDeviceState, CampaignRules, CampaignState};
    use crate::db::{params, SqlExt};
    use crate::error::{ApiError, ErrorKind};
    use crate::model::{Cloud, Device};
    use crate::store::test_store;

    #[test]
    fn devices_join_an_open_continuous_campaign_until_it_is_closed() {
        let (_dir, store) = test_store();
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let devices: Vec<_> = (0..3)
            .map(|i| device(account.id, &format!("SN{i}")))
            .collect();
        let all: Vec<&Device> = devices.iter().collect();
        let rules = CampaignRules {
            continuous: true,
            ..CampaignRules::default()
        };
        let id = campaign_with_rules(&store, &devices[..2], &[Some(0), None], &rules);
        let me = lease(&store, id);
        let join = || store.join_campaign(&fence(id, &me), 1, &all, "t").unwrap();
        assert_eq!(join(), 0, "not running yet");
        store
            .set_campaign_state(id, &[CampaignState::Ready], CampaignState::Running, None)
            .unwrap();
        // SN1 (left out by the pre-flight check) and SN2 (new) join; SN0 is in it already.
        assert_eq!(join(), 2);
        let states = store.campaign_device_states(id).unwrap();
        assert_eq!(states.len(), 3);
        assert!(states.values().all(|s| *s == CampaignDeviceState::Pending));
        assert_eq!(store.wave_summaries(id, 2).unwrap()[1].counts.pending, 2);
        assert_eq!(join(), 0, "each joins once");
        let audited: i64 = store
            .read(|conn| {
                conn.query_value(
                    "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
                    params!["campaign.devices_added"],
                )
            })
            .unwrap();
        assert_eq!(audited, 1);

        store.close_campaign(id).unwrap();
        let again = ApiError::from(store.close_campaign(id).unwrap_err());
        assert_eq!(again.code, ErrorKind::Conflict);
        assert_eq!(join(), 0, "closed");
        let plain = campaign(&store, &devices, &[Some(0); 3]);
        let err = ApiError::from(store.close_campaign(plain).unwrap_err());
        assert_eq!(err.code, ErrorKind::Validation);
    }
}
