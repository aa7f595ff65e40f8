//! The device queue a campaign's runner works from: claiming due devices (marked `starting` before
//! anything is sent), the rows left in flight by a runner that stopped, batched updates with the audit
//! records of their starts, failed devices put back, and what is due next.

use crate::campaign::lease::{Fence, LeaseError};
use crate::campaign::model::CampaignDeviceState;
use crate::db::{params, SqlExt};
use crate::error::{ApiError, CoreResult};
use crate::model::now_ms;
use crate::store::{AuditRecord, Store};

/// A device the runner works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDevice {
    pub account_id: i64,
    pub device_id: String,
    pub product_key: Option<String>,
    pub model: String,
    pub wave: u32,
    pub attempts: u32,
    /// What the row said before this claim: `Starting`/`Running` after a restart.
    pub previous: CampaignDeviceState,
    /// When this attempt was claimed (Unix ms): a device timeout counts from here, across restarts.
    pub started_at: i64,
}

/// A change the runner records about one device.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceUpdate {
    /// Its start was sent (or found sent) and is audited in the same transaction: the row leaves
    /// `starting`, so a runner recovering it never records that start again.
    Started {
        account_id: i64,
        device_id: String,
    },
    /// The cloud reported the device moving.
    Progress {
        account_id: i64,
        device_id: String,
        percent: u8,
        remote_state: String,
    },
    Succeeded {
        account_id: i64,
        device_id: String,
    },
    /// Failed for good (`retry_at` None) or until `retry_at`.
    Failed {
        account_id: i64,
        device_id: String,
        error: ApiError,
        retry_at: Option<i64>,
    },
}

impl Store {
    /// Marks up to `limit` due pending devices of waves up to `max_wave` as `starting` (one transaction,
    /// before anything is sent) and returns them, if the runner still holds the lease. Only rows this call
    /// changed are returned, so two runners never claim the same device.
    pub fn claim_devices(
        &self,
        fence: &Fence<'_>,
        max_wave: u32,
        limit: u32,
    ) -> Result<Vec<ClaimedDevice>, LeaseError> {
        let id = fence.campaign_id;
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.write_fenced(fence, |tx| {
            let now = now_ms();
            let candidates = tx.query_map(
                "SELECT account_id, device_id, product_key, model, wave, attempts FROM campaign_devices
                 WHERE campaign_id = ?1 AND state = 'pending' AND wave <= ?2
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?3)
                 ORDER BY wave, device_id LIMIT ?4",
                params![id, max_wave, now, limit],
                |r| {
                    Ok(ClaimedDevice {
                        account_id: r.get(0)?,
                        device_id: r.get(1)?,
                        product_key: r.get(2)?,
                        model: r.get(3)?,
                        wave: r.get(4)?,
                        attempts: r.get::<u32>(5)? + 1,
                        previous: CampaignDeviceState::Pending,
                        started_at: now,
                    })
                },
            )?;
            let mut claimed = Vec::with_capacity(candidates.len());
            for c in candidates {
                let n = tx.execute(
                    "UPDATE campaign_devices SET state = 'starting', attempts = attempts + 1, started_at = ?4,
                         next_attempt_at = NULL, finished_at = NULL
                     WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3 AND state = 'pending'",
                    params![id, c.account_id, c.device_id, now],
                )?;
                if n == 1 {
                    claimed.push(c);
                }
            }
            Ok(claimed)
        })
    }

    /// Devices left `starting` or `running` by a runner that stopped (crash, kill, app closed). The state
    /// index is named: SQLite would otherwise walk every row of the campaign (10 ms at 100 000 devices).
    pub fn in_flight_devices(&self, id: i64) -> CoreResult<Vec<ClaimedDevice>> {
        self.read(|conn| {
            conn.query_map(
                "SELECT account_id, device_id, product_key, model, wave, attempts, state, started_at
                 FROM campaign_devices INDEXED BY campaign_devices_by_state
                 WHERE campaign_id = ?1 AND state IN ('starting', 'running')",
                params![id],
                |r| {
                    Ok(ClaimedDevice {
                        account_id: r.get(0)?,
                        device_id: r.get(1)?,
                        product_key: r.get(2)?,
                        model: r.get(3)?,
                        wave: r.get::<Option<u32>>(4)?.unwrap_or(0),
                        attempts: r.get(5)?,
                        previous: CampaignDeviceState::parse(&r.get::<String>(6)?),
                        started_at: r.get::<Option<i64>>(7)?.unwrap_or_else(now_ms),
                    })
                },
            )
        })
    }

    /// Records a batch of device changes, and the audit records of the starts behind them, in one
    /// transaction (if the runner still holds the lease): a device never moves on without its start being
    /// in the audit log.
    pub fn apply_device_updates(
        &self,
        fence: &Fence<'_>,
        updates: &[DeviceUpdate],
        audit: &[AuditRecord<'_>],
    ) -> Result<(), LeaseError> {
        let id = fence.campaign_id;
        self.write_fenced(fence, |tx| {
            crate::store::audit::insert_audit(tx, audit)?;
            let now = now_ms();
            for update in updates {
                match update {
                    DeviceUpdate::Started {
                        account_id,
                        device_id,
                    } => {
                        tx.execute(
                            "UPDATE campaign_devices SET state = 'running', reported_at = ?4
                             WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3
                               AND state = 'starting'",
                            params![id, account_id, device_id, now],
                        )?;
                    }
                    DeviceUpdate::Progress {
                        account_id,
                        device_id,
                        percent,
                        remote_state,
                    } => {
                        // The percentage never goes back (a late report of an earlier one).
                        tx.execute(
                            "UPDATE campaign_devices
                             SET state = 'running', remote_state = ?5, reported_at = ?6,
                                 percent = CASE WHEN percent > ?4 THEN percent ELSE ?4 END
                             WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3
                               AND state IN ('starting', 'running')",
                            params![id, account_id, device_id, percent, remote_state, now],
                        )?;
                    }
                    DeviceUpdate::Succeeded {
                        account_id,
                        device_id,
                    } => {
                        tx.execute(
                            "UPDATE campaign_devices
                             SET state = 'succeeded', percent = 100, remote_state = 'succeeded',
                                 reported_at = ?4, finished_at = ?4, error_code = NULL,
                                 error_message = NULL, error_hint = NULL, vendor_code = NULL
                             WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3",
                            params![id, account_id, device_id, now],
                        )?;
                        // The cached fleet shows the new version at once (as a single update's success
                        // does), so the device list and the fleet's version counts move with the
                        // campaign, not at the next refresh.
                        tx.execute(
                            "UPDATE devices SET firmware = (SELECT f.version FROM campaigns c
                                                              JOIN firmware f ON f.id = c.firmware_id
                                                             WHERE c.id = ?1)
                             WHERE account_id = ?2 AND device_id = ?3",
                            params![id, account_id, device_id],
                        )?;
                    }
                    DeviceUpdate::Failed {
                        account_id,
                        device_id,
                        error,
                        retry_at,
                    } => {
                        let state = if retry_at.is_some() {
                            CampaignDeviceState::Pending
                        } else {
                            CampaignDeviceState::Failed
                        };
                        // CAST: PostgreSQL cannot tell a parameter's type from `THEN ? ELSE NULL`.
                        tx.execute(
                            "UPDATE campaign_devices SET state = ?4, next_attempt_at = ?5, reported_at = ?6,
                                 finished_at = CASE WHEN ?4 = 'failed' THEN CAST(?6 AS BIGINT) ELSE NULL END,
                                 error_code = ?7, error_message = ?8, error_hint = ?9, vendor_code = ?10,
                                 remote_state = CASE WHEN ?4 = 'failed' THEN 'failed' ELSE remote_state END
                             WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3",
                            params![
                                id,
                                account_id,
                                device_id,
                                state.as_str(),
                                retry_at,
                                now,
                                error.code.as_str(),
                                error.message,
                                error.hint,
                                error.vendor_code
                            ],
                        )?;
                    }
                }
            }
            Ok(())
        })
    }

    /// The devices of `wave` that succeeded (re-checked at the end of a bake).
    pub fn succeeded_in_wave(&self, id: i64, wave: u32) -> CoreResult<Vec<ClaimedDevice>> {
        self.read(|conn| {
            conn.query_map(
                "SELECT account_id, device_id, product_key, model, wave, attempts, started_at
                 FROM campaign_devices WHERE campaign_id = ?1 AND wave = ?2 AND state = 'succeeded'",
                params![id, wave],
                |r| {
                    Ok(ClaimedDevice {
                        account_id: r.get(0)?,
                        device_id: r.get(1)?,
                        product_key: r.get(2)?,
                        model: r.get(3)?,
                        wave: r.get(4)?,
                        attempts: r.get(5)?,
                        previous: CampaignDeviceState::Succeeded,
                        started_at: r.get::<Option<i64>>(6)?.unwrap_or_else(now_ms),
                    })
                },
            )
        })
    }

    /// Puts failed devices back in the queue (attempt counts kept); returns how many.
    pub fn requeue_failed(&self, id: i64) -> CoreResult<u32> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE campaign_devices SET state = 'pending', next_attempt_at = NULL, finished_at = NULL
                 WHERE campaign_id = ?1 AND state = 'failed'",
                params![id],
            )?;
            // The wave is open again: a bake counts afresh once it ends.
            tx.execute(
                "UPDATE campaigns SET wave_done_at = NULL WHERE id = ?1",
                params![id],
            )?;
            Ok(n as u32)
        })
    }

    /// The earliest wave that still has devices without an end (pending or in flight).
    pub fn lowest_open_wave(&self, id: i64) -> CoreResult<Option<u32>> {
        self.read(|conn| {
            conn.query_value(
                "SELECT MIN(wave) FROM campaign_devices WHERE campaign_id = ?1
                 AND state IN ('pending', 'starting', 'running')",
                params![id],
            )
        })
    }

    /// When the next pending device of waves up to `max_wave` is due (None: none pending).
    pub fn next_due(&self, id: i64, max_wave: u32) -> CoreResult<Option<i64>> {
        self.read(|conn| {
            conn.query_value(
                "SELECT MIN(COALESCE(next_attempt_at, 0)) FROM campaign_devices
                 WHERE campaign_id = ?1 AND state = 'pending' AND wave <= ?2",
                params![id, max_wave],
            )
        })
    }
}
