//! Campaigns in SQLite. Every device's state is written before the action it describes is sent, and the
//! runner's many small updates land in batches (one transaction each).

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension, Row};

use super::Store;
use crate::campaign::model::{
    CampaignDevicePage, CampaignDeviceQuery, CampaignDeviceState, CampaignDeviceView,
    CampaignSettings, CampaignState, CampaignView, FailureGroup, ProgressPoint, StateCounts,
    WaveSummary,
};
use crate::campaign::rules::failure_percent;
use crate::error::{ApiError, CoreResult, ErrorKind};
use crate::model::{now_ms, Cloud, Device, DeviceQuery};

/// A device row as the campaign is created.
pub struct NewCampaignDevice<'a> {
    pub device: &'a Device,
    /// `None`: left out by the pre-flight check (`skip` says why).
    pub wave: Option<u32>,
    pub skip: Option<String>,
}

pub struct NewCampaignRow<'a> {
    pub name: &'a str,
    pub firmware_id: i64,
    pub settings: &'a CampaignSettings,
    pub target_filter: Option<&'a DeviceQuery>,
    pub wave_count: u32,
    pub created_by: &'a str,
}

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
}

/// A change the runner records about one device.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceUpdate {
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

const VIEW_COLUMNS: &str = "c.id, c.name, c.firmware_id, f.version, f.file_name, f.cloud, c.state, c.settings,
     c.target_filter, c.wave_count, c.current_wave, c.reason, c.created_by, c.created_at, c.started_at,
     c.finished_at";

fn view_from_row(row: &Row<'_>) -> rusqlite::Result<CampaignView> {
    let cloud: String = row.get(5)?;
    let state: String = row.get(6)?;
    let settings: String = row.get(7)?;
    let filter: Option<String> = row.get(8)?;
    Ok(CampaignView {
        id: row.get(0)?,
        name: row.get(1)?,
        firmware_id: row.get(2)?,
        firmware_version: row.get(3)?,
        firmware_file: row.get(4)?,
        cloud: Cloud::parse(&cloud).unwrap_or(Cloud::Vicohome),
        state: CampaignState::parse(&state),
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        target_filter: filter.and_then(|f| serde_json::from_str(&f).ok()),
        wave_count: row.get(9)?,
        current_wave: row.get(10)?,
        reason: row.get(11)?,
        created_by: row.get(12)?,
        created_at: row.get(13)?,
        started_at: row.get(14)?,
        finished_at: row.get(15)?,
        counts: StateCounts::default(),
    })
}

fn counts(conn: &rusqlite::Connection, id: i64) -> CoreResult<StateCounts> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, COUNT(*) FROM campaign_devices WHERE campaign_id = ?1 GROUP BY state",
    )?;
    let mut counts = StateCounts::default();
    for row in stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))? {
        let (state, n) = row?;
        counts.add(CampaignDeviceState::parse(&state), n);
    }
    Ok(counts)
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("No campaign #{id}."))
        .with_hint("`otactl campaign list` shows the campaigns.")
}

impl Store {
    /// Product keys of an account's devices of `model` (every model when `None`).
    pub fn product_keys(&self, account_id: i64, model: Option<&str>) -> CoreResult<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT product_key FROM devices
                 WHERE account_id = ?1 AND product_key IS NOT NULL AND (?2 IS NULL OR model = ?2)
                 ORDER BY product_key",
            )?;
            let keys = stmt
                .query_map(params![account_id, model], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(keys)
        })
    }

    /// Every cached device matching a device-list filter (its paging ignored).
    pub fn matching_devices(&self, query: &DeviceQuery) -> CoreResult<Vec<Device>> {
        let mut all = Vec::new();
        let mut page_query = query.clone();
        page_query.limit = super::MAX_PAGE_SIZE;
        page_query.offset = 0;
        loop {
            let page = self.query_devices(&page_query)?;
            let n = page.rows.len() as u32;
            all.extend(page.rows);
            if n < page_query.limit {
                return Ok(all);
            }
            page_query.offset += n;
        }
    }

    /// Devices another update holds: an unfinished job, or an open row of an unfinished campaign.
    pub fn busy_devices(&self) -> CoreResult<HashSet<(i64, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT account_id, device_id FROM ota_jobs WHERE state IN ('starting', 'running')
                 UNION
                 SELECT d.account_id, d.device_id FROM campaign_devices d
                 JOIN campaigns c ON c.id = d.campaign_id
                 WHERE d.state IN ('starting', 'running')
                    OR (d.state = 'pending' AND c.state IN ('ready', 'running', 'paused'))",
            )?;
            let set = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<HashSet<(i64, String)>, _>>()?;
            Ok(set)
        })
    }

    /// Writes a campaign and all its device rows in one transaction.
    pub fn create_campaign(
        &self,
        campaign: &NewCampaignRow<'_>,
        devices: &[NewCampaignDevice<'_>],
    ) -> CoreResult<i64> {
        let settings = serde_json::to_string(campaign.settings)
            .map_err(|e| ApiError::internal(format!("campaign settings: {e}")))?;
        let filter = campaign
            .target_filter
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| ApiError::internal(format!("campaign filter: {e}")))?;
        self.write(|tx| {
            let now = now_ms();
            tx.execute(
                "INSERT INTO campaigns (name, firmware_id, state, settings, target_filter, wave_count,
                                        created_by, created_at, updated_at)
                 VALUES (?1, ?2, 'ready', ?3, ?4, ?5, ?6, ?7, ?7)",
                params![
                    campaign.name,
                    campaign.firmware_id,
                    settings,
                    filter,
                    campaign.wave_count,
                    campaign.created_by,
                    now
                ],
            )?;
            let id = tx.last_insert_rowid();
            let mut insert = tx.prepare_cached(
                "INSERT INTO campaign_devices (campaign_id, account_id, device_id, cloud, product_key, model,
                                               name, from_version, wave, state, error_code, error_message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for row in devices {
                let d = row.device;
                let state = if row.wave.is_some() {
                    CampaignDeviceState::Pending
                } else {
                    CampaignDeviceState::Skipped
                };
                insert.execute(params![
                    id,
                    d.account_id,
                    d.id,
                    d.cloud.as_str(),
                    d.product_key,
                    d.model,
                    d.name,
                    d.firmware,
                    row.wave,
                    state.as_str(),
                    row.skip.as_ref().map(|_| "validation"),
                    row.skip
                ])?;
            }
            Ok(id)
        })
    }

    pub fn campaign_view(&self, id: i64) -> CoreResult<CampaignView> {
        let mut view = self.campaign_header(id)?;
        view.counts = self.read(|conn| counts(conn, id))?;
        Ok(view)
    }

    /// The campaign without its counts (cheap: the runner reads it every round).
    pub fn campaign_header(&self, id: i64) -> CoreResult<CampaignView> {
        self.read(|conn| {
            let view = conn
                .query_row(
                    &format!(
                        "SELECT {VIEW_COLUMNS} FROM campaigns c JOIN firmware f ON f.id = c.firmware_id
                         WHERE c.id = ?1"
                    ),
                    [id],
                    view_from_row,
                )
                .optional()?
                .ok_or_else(|| not_found(id))?;
            Ok(view)
        })
    }

    /// Newest first.
    pub fn campaign_views(&self) -> CoreResult<Vec<CampaignView>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {VIEW_COLUMNS} FROM campaigns c JOIN firmware f ON f.id = c.firmware_id
                 ORDER BY c.id DESC"
            ))?;
            let mut views = stmt
                .query_map([], view_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            for view in &mut views {
                view.counts = counts(conn, view.id)?;
            }
            Ok(views)
        })
    }

    /// Campaigns a runner should be working on (after a restart).
    pub fn running_campaigns(&self) -> CoreResult<Vec<i64>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT c.id FROM campaigns c WHERE c.state = 'running'
                 OR EXISTS (SELECT 1 FROM campaign_devices d WHERE d.campaign_id = c.id
                            AND d.state IN ('starting', 'running'))",
            )?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
    }

    /// Moves a campaign to `to` if it is in one of `from`; the error says what state it is in.
    pub fn set_campaign_state(
        &self,
        id: i64,
        from: &[CampaignState],
        to: CampaignState,
        reason: Option<&str>,
    ) -> CoreResult<CampaignView> {
        self.write(|tx| {
            let current: Option<String> = tx
                .query_row("SELECT state FROM campaigns WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            let current = CampaignState::parse(&current.ok_or_else(|| not_found(id))?);
            if !from.contains(&current) {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!(
                        "Campaign #{id} is {}; it cannot become {}.",
                        current.as_str(),
                        to.as_str()
                    ),
                )
                .into());
            }
            let now = now_ms();
            tx.execute(
                "UPDATE campaigns SET state = ?2, reason = ?3, updated_at = ?4,
                     started_at = CASE WHEN ?2 = 'running' AND started_at IS NULL THEN ?4 ELSE started_at END,
                     finished_at = CASE WHEN ?2 IN ('completed', 'aborted', 'cancelled') THEN ?4 ELSE NULL END
                 WHERE id = ?1",
                params![id, to.as_str(), reason, now],
            )?;
            if to == CampaignState::Cancelled {
                tx.execute(
                    "UPDATE campaign_devices SET state = 'cancelled', finished_at = ?2
                     WHERE campaign_id = ?1 AND state = 'pending'",
                    params![id, now],
                )?;
            }
            Ok(())
        })?;
        self.campaign_view(id)
    }

    pub fn set_current_wave(&self, id: i64, wave: u32) -> CoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE campaigns SET current_wave = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, wave, now_ms()],
            )?;
            Ok(())
        })
    }

    /// Marks up to `limit` due pending devices of waves up to `max_wave` as `starting` (one transaction,
    /// before anything is sent) and returns them. Only rows this call changed are returned, so two
    /// runners never claim the same device.
    pub fn claim_devices(
        &self,
        id: i64,
        max_wave: u32,
        limit: u32,
    ) -> CoreResult<Vec<ClaimedDevice>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let now = now_ms();
            let mut select = tx.prepare_cached(
                "SELECT account_id, device_id, product_key, model, wave, attempts FROM campaign_devices
                 WHERE campaign_id = ?1 AND state = 'pending' AND wave <= ?2
                   AND (next_attempt_at IS NULL OR next_attempt_at <= ?3)
                 ORDER BY wave, device_id LIMIT ?4",
            )?;
            let candidates = select
                .query_map(params![id, max_wave, now, limit], |r| {
                    Ok(ClaimedDevice {
                        account_id: r.get(0)?,
                        device_id: r.get(1)?,
                        product_key: r.get(2)?,
                        model: r.get(3)?,
                        wave: r.get(4)?,
                        attempts: r.get::<_, u32>(5)? + 1,
                        previous: CampaignDeviceState::Pending,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut update = tx.prepare_cached(
                "UPDATE campaign_devices SET state = 'starting', attempts = attempts + 1, started_at = ?4,
                     next_attempt_at = NULL, finished_at = NULL
                 WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3 AND state = 'pending'",
            )?;
            let mut claimed = Vec::with_capacity(candidates.len());
            for c in candidates {
                if update.execute(params![id, c.account_id, c.device_id, now])? == 1 {
                    claimed.push(c);
                }
            }
            Ok(claimed)
        })
    }

    /// Devices left `starting` or `running` by a runner that stopped (crash, kill, app closed).
    pub fn in_flight_devices(&self, id: i64) -> CoreResult<Vec<ClaimedDevice>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT account_id, device_id, product_key, model, wave, attempts, state
                 FROM campaign_devices WHERE campaign_id = ?1 AND state IN ('starting', 'running')",
            )?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok(ClaimedDevice {
                        account_id: r.get(0)?,
                        device_id: r.get(1)?,
                        product_key: r.get(2)?,
                        model: r.get(3)?,
                        wave: r.get::<_, Option<u32>>(4)?.unwrap_or(0),
                        attempts: r.get(5)?,
                        previous: CampaignDeviceState::parse(&r.get::<_, String>(6)?),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Records a batch of device changes, and the audit records of the starts behind them, in one
    /// transaction: a device never moves on without its start being in the audit log.
    pub fn apply_device_updates(
        &self,
        id: i64,
        updates: &[DeviceUpdate],
        audit: &[super::AuditRecord<'_>],
    ) -> CoreResult<()> {
        if updates.is_empty() && audit.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            super::audit::insert_audit(tx, audit)?;
            let now = now_ms();
            let mut progress = tx.prepare_cached(
                "UPDATE campaign_devices SET state = 'running', percent = MAX(percent, ?4), remote_state = ?5,
                     reported_at = ?6
                 WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3
                   AND state IN ('starting', 'running')",
            )?;
            let mut succeeded = tx.prepare_cached(
                "UPDATE campaign_devices SET state = 'succeeded', percent = 100, remote_state = 'succeeded',
                     reported_at = ?4, finished_at = ?4, error_code = NULL, error_message = NULL,
                     error_hint = NULL, vendor_code = NULL
                 WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3",
            )?;
            let mut failed = tx.prepare_cached(
                "UPDATE campaign_devices SET state = ?4, next_attempt_at = ?5, reported_at = ?6,
                     finished_at = CASE WHEN ?4 = 'failed' THEN ?6 ELSE NULL END,
                     error_code = ?7, error_message = ?8, error_hint = ?9, vendor_code = ?10,
                     remote_state = CASE WHEN ?4 = 'failed' THEN 'failed' ELSE remote_state END
                 WHERE campaign_id = ?1 AND account_id = ?2 AND device_id = ?3",
            )?;
            for update in updates {
                match update {
                    DeviceUpdate::Progress {
                        account_id,
                        device_id,
                        percent,
                        remote_state,
                    } => {
                        progress.execute(params![
                            id,
                            account_id,
                            device_id,
                            percent,
                            remote_state,
                            now
                        ])?;
                    }
                    DeviceUpdate::Succeeded {
                        account_id,
                        device_id,
                    } => {
                        succeeded.execute(params![id, account_id, device_id, now])?;
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
                        failed.execute(params![
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
                        ])?;
                    }
                }
            }
            Ok(())
        })
    }

    pub fn campaign_counts(&self, id: i64) -> CoreResult<StateCounts> {
        self.read(|conn| counts(conn, id))
    }

    /// Counts per wave (skipped devices have no wave and are not listed).
    pub fn wave_summaries(&self, id: i64, wave_count: u32) -> CoreResult<Vec<WaveSummary>> {
        self.read(|conn| {
            let mut waves: Vec<WaveSummary> = (0..wave_count)
                .map(|index| WaveSummary {
                    index,
                    counts: StateCounts::default(),
                    failure_percent: 0.0,
                })
                .collect();
            let mut stmt = conn.prepare_cached(
                "SELECT wave, state, COUNT(*) FROM campaign_devices
                 WHERE campaign_id = ?1 AND wave IS NOT NULL GROUP BY wave, state",
            )?;
            for row in stmt.query_map([id], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })? {
                let (wave, state, n) = row?;
                if let Some(w) = waves.get_mut(wave as usize) {
                    w.counts.add(CampaignDeviceState::parse(&state), n);
                }
            }
            for w in &mut waves {
                w.failure_percent = failure_percent(w.counts.succeeded, w.counts.failed);
            }
            Ok(waves)
        })
    }

    /// Failed devices grouped by what went wrong, largest group first.
    pub fn failure_groups(&self, id: i64) -> CoreResult<Vec<FailureGroup>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT error_code, vendor_code, error_message, MAX(error_hint), COUNT(*),
                        GROUP_CONCAT(device_id, char(31))
                 FROM campaign_devices WHERE campaign_id = ?1 AND state = 'failed'
                 GROUP BY error_code, vendor_code, error_message ORDER BY COUNT(*) DESC",
            )?;
            let groups = stmt
                .query_map([id], |r| {
                    let code: Option<String> = r.get(0)?;
                    let devices: Option<String> = r.get(5)?;
                    Ok(FailureGroup {
                        code: code
                            .as_deref()
                            .and_then(ErrorKind::parse)
                            .unwrap_or(ErrorKind::Internal),
                        vendor_code: r.get(1)?,
                        message: r
                            .get::<_, Option<String>>(2)?
                            .unwrap_or_else(|| "Failed.".into()),
                        hint: r.get(3)?,
                        count: r.get(4)?,
                        devices: devices
                            .unwrap_or_default()
                            .split('\u{1f}')
                            .take(20)
                            .map(str::to_string)
                            .collect(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(groups)
        })
    }

    pub fn record_campaign_sample(&self, id: i64, counts: &StateCounts) -> CoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO campaign_samples (campaign_id, at, succeeded, failed, in_flight, pending)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    now_ms(),
                    counts.succeeded,
                    counts.failed,
                    counts.in_flight,
                    counts.pending
                ],
            )?;
            Ok(())
        })
    }

    /// The progress history, thinned to at most `points` evenly spaced samples (the last always kept).
    pub fn campaign_history(&self, id: i64, points: usize) -> CoreResult<Vec<ProgressPoint>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT at, succeeded, failed, in_flight, pending FROM campaign_samples
                 WHERE campaign_id = ?1 ORDER BY at",
            )?;
            let all = stmt
                .query_map([id], |r| {
                    Ok(ProgressPoint {
                        at: r.get(0)?,
                        succeeded: r.get(1)?,
                        failed: r.get(2)?,
                        in_flight: r.get(3)?,
                        pending: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            if all.len() <= points || points < 2 {
                return Ok(all);
            }
            let step = (all.len() - 1) as f64 / (points - 1) as f64;
            Ok((0..points)
                .map(|i| all[((i as f64 * step).round() as usize).min(all.len() - 1)].clone())
                .collect())
        })
    }

    pub fn campaign_devices(
        &self,
        id: i64,
        query: &CampaignDeviceQuery,
    ) -> CoreResult<CampaignDevicePage> {
        let limit = match query.limit {
            0 => 200,
            n => n.min(1000),
        };
        self.read(|conn| {
            let state = query.state.map(CampaignDeviceState::as_str);
            let matching: u32 = conn.query_row(
                "SELECT COUNT(*) FROM campaign_devices WHERE campaign_id = ?1
                 AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR wave = ?3)",
                params![id, state, query.wave],
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare_cached(
                "SELECT account_id, device_id, name, model, from_version, wave, state, attempts, percent,
                        remote_state, reported_at, next_attempt_at, error_code, error_message, error_hint,
                        vendor_code, started_at, finished_at
                 FROM campaign_devices WHERE campaign_id = ?1
                   AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR wave = ?3)
                 ORDER BY wave IS NULL, wave, device_id LIMIT ?4 OFFSET ?5",
            )?;
            let rows = stmt
                .query_map(
                    params![id, state, query.wave, limit, query.offset],
                    |r| {
                        let code: Option<String> = r.get(12)?;
                        let message: Option<String> = r.get(13)?;
                        let error = match (code, message) {
                            (Some(code), Some(message)) => Some(ApiError {
                                code: ErrorKind::parse(&code).unwrap_or(ErrorKind::Internal),
                                message,
                                hint: r.get(14)?,
                                vendor_code: r.get(15)?,
                                retry_after_secs: None,
                            }),
                            _ => None,
                        };
                        Ok(CampaignDeviceView {
                            account_id: r.get(0)?,
                            device_id: r.get(1)?,
                            name: r.get(2)?,
                            model: r.get(3)?,
                            from_version: r.get(4)?,
                            wave: r.get(5)?,
                            state: CampaignDeviceState::parse(&r.get::<_, String>(6)?),
                            attempts: r.get(7)?,
                            percent: r.get(8)?,
                            remote_state: r.get(9)?,
                            reported_at: r.get(10)?,
                            next_attempt_at: r.get(11)?,
                            error,
                            started_at: r.get(16)?,
                            finished_at: r.get(17)?,
                        })
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(CampaignDevicePage { matching, rows })
        })
    }

    /// Puts failed devices back in the queue (attempt counts kept); returns how many.
    pub fn requeue_failed(&self, id: i64) -> CoreResult<u32> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE campaign_devices SET state = 'pending', next_attempt_at = NULL, finished_at = NULL
                 WHERE campaign_id = ?1 AND state = 'failed'",
                [id],
            )?;
            Ok(n as u32)
        })
    }

    /// The earliest wave that still has devices without an end (pending or in flight).
    pub fn lowest_open_wave(&self, id: i64) -> CoreResult<Option<u32>> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT MIN(wave) FROM campaign_devices WHERE campaign_id = ?1
                 AND state IN ('pending', 'starting', 'running')",
                [id],
                |r| r.get(0),
            )?)
        })
    }

    /// When the next pending device of waves up to `max_wave` is due (None: none pending).
    pub fn next_due(&self, id: i64, max_wave: u32) -> CoreResult<Option<i64>> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT MIN(COALESCE(next_attempt_at, 0)) FROM campaign_devices
                 WHERE campaign_id = ?1 AND state = 'pending' AND wave <= ?2",
                params![id, max_wave],
                |r| r.get(0),
            )?)
        })
    }

    /// Deletes a campaign that is not running (its devices' rows and history go with it).
    pub fn delete_campaign(&self, id: i64) -> CoreResult<CampaignView> {
        let view = self.campaign_view(id)?;
        if matches!(view.state, CampaignState::Running | CampaignState::Paused)
            || view.counts.in_flight > 0
        {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!(
                    "Campaign #{id} is {}; cancel it before deleting it.",
                    view.state.as_str()
                ),
            )
            .into());
        }
        self.write(|tx| {
            tx.execute("DELETE FROM campaigns WHERE id = ?1", [id])?;
            Ok(())
        })?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::NewFirmwareEntry;
    use crate::store::test_store;

    fn device(account_id: i64, id: &str) -> Device {
        Device {
            account_id,
            cloud: Cloud::Vicohome,
            id: id.into(),
            product_key: None,
            name: format!("Camera {id}"),
            model: "CG1".into(),
            manufacturer: None,
            transport: None,
            firmware: "1.0.0".into(),
            newest_firmware: Some("2.0.0".into()),
            online: true,
            battery: Some(80),
            signal: None,
            refreshed_at: 0,
        }
    }

    fn campaign(store: &Store, devices: &[Device], waves: &[Option<u32>]) -> i64 {
        let (firmware, _) = store
            .add_firmware(&NewFirmwareEntry {
                sha256: "ab",
                md5: "cd",
                size: 1,
                file_name: "fw.bin",
                version: "2.0.0",
                cloud: Cloud::Vicohome,
                model: None,
                notes: "",
                added_by: "t",
            })
            .unwrap();
        let rows: Vec<NewCampaignDevice<'_>> = devices
            .iter()
            .zip(waves)
            .map(|(device, wave)| NewCampaignDevice {
                device,
                wave: *wave,
                skip: wave.is_none().then(|| "Offline".to_string()),
            })
            .collect();
        store
            .create_campaign(
                &NewCampaignRow {
                    name: "c",
                    firmware_id: firmware.id,
                    settings: &CampaignSettings::default(),
                    target_filter: None,
                    wave_count: 2,
                    created_by: "t",
                },
                &rows,
            )
            .unwrap()
    }

    #[test]
    fn claims_take_each_device_once_and_only_from_open_waves() {
        let (_dir, store) = test_store();
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let devices: Vec<Device> = (0..6)
            .map(|i| device(account.id, &format!("SN{i}")))
            .collect();
        let id = campaign(
            &store,
            &devices,
            &[Some(0), Some(0), Some(1), Some(1), Some(1), None],
        );
        let view = store.campaign_view(id).unwrap();
        assert_eq!((view.counts.pending, view.counts.skipped), (5, 1));

        let first = store.claim_devices(id, 0, 10).unwrap();
        assert_eq!(first.len(), 2, "wave 0 only");
        assert!(first.iter().all(|c| c.attempts == 1));
        assert!(
            store.claim_devices(id, 0, 10).unwrap().is_empty(),
            "never twice"
        );
        assert_eq!(store.in_flight_devices(id).unwrap().len(), 2);
        assert_eq!(store.lowest_open_wave(id).unwrap(), Some(0));

        store
            .apply_device_updates(
                id,
                &[
                    DeviceUpdate::Succeeded {
                        account_id: account.id,
                        device_id: "SN0".into(),
                    },
                    DeviceUpdate::Failed {
                        account_id: account.id,
                        device_id: "SN1".into(),
                        error: ApiError::new(ErrorKind::Offline, "gone"),
                        retry_at: Some(now_ms() + 60_000),
                    },
                    // A late progress report never revives a finished device.
                    DeviceUpdate::Progress {
                        account_id: account.id,
                        device_id: "SN0".into(),
                        percent: 10,
                        remote_state: "downloading".into(),
                    },
                ],
                &[],
            )
            .unwrap();
        let counts = store.campaign_counts(id).unwrap();
        assert_eq!(
            (counts.succeeded, counts.pending, counts.in_flight),
            (1, 4, 0)
        );
        assert!(
            store.claim_devices(id, 0, 10).unwrap().is_empty(),
            "a retry waits for its time"
        );
        let waves = store.wave_summaries(id, 2).unwrap();
        assert_eq!(waves[0].counts.succeeded, 1);
        assert_eq!(waves[1].counts.pending, 3);
        let next = store.claim_devices(id, 1, 2).unwrap();
        assert_eq!(next.len(), 2);
        assert!(next.iter().all(|c| c.wave == 1));
    }

    #[test]
    fn cancelling_ends_pending_devices_and_state_changes_are_checked() {
        let (_dir, store) = test_store();
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let devices: Vec<Device> = (0..3)
            .map(|i| device(account.id, &format!("SN{i}")))
            .collect();
        let id = campaign(&store, &devices, &[Some(0), Some(0), Some(1)]);
        let err = store
            .set_campaign_state(id, &[CampaignState::Running], CampaignState::Paused, None)
            .unwrap_err();
        assert!(err.to_string().contains("is ready"), "{err}");
        store
            .set_campaign_state(id, &[CampaignState::Ready], CampaignState::Running, None)
            .unwrap();
        store.claim_devices(id, 0, 1).unwrap();
        let view = store
            .set_campaign_state(
                id,
                &[CampaignState::Running],
                CampaignState::Cancelled,
                None,
            )
            .unwrap();
        assert_eq!((view.counts.cancelled, view.counts.in_flight), (2, 1));
        assert!(view.started_at.is_some() && view.finished_at.is_some());
        assert_eq!(
            store.busy_devices().unwrap().len(),
            1,
            "a cancelled campaign holds only the device still updating"
        );
        assert!(
            store.delete_campaign(id).is_err(),
            "a device is still in flight"
        );
    }
}
