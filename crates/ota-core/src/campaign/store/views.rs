//! What the campaign dashboard reads: counts, per-wave summaries, failure groups, the progress history
//! (sampled by the runner) and the page of device rows.

use rusqlite::params;

use super::counts;
use crate::campaign::lease::{Fence, LeaseError};
use crate::campaign::model::{
    CampaignDevicePage, CampaignDeviceQuery, CampaignDeviceState, CampaignDeviceView, FailureGroup,
    ProgressPoint, StateCounts, WaveSummary,
};
use crate::campaign::rules::failure_percent;
use crate::error::{ApiError, CoreResult, ErrorKind};
use crate::model::now_ms;
use crate::store::Store;

impl Store {
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

    /// Records the campaign's counts now, for the progress chart; answers them.
    pub fn record_campaign_sample(&self, fence: &Fence<'_>) -> Result<StateCounts, LeaseError> {
        let id = fence.campaign_id;
        self.write_fenced(fence, |tx| {
            let counts = counts(tx, id)?;
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
            Ok(counts)
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
}
