//! What the campaign dashboard reads: counts, per-wave summaries, failure groups, the progress history
//! (sampled by the runner) and the page of device rows.

use super::{counts, in_snapshot, tally};
use crate::campaign::lease::{Fence, LeaseError};
use crate::campaign::model::{
    CampaignDevicePage, CampaignDeviceQuery, CampaignDeviceState, CampaignDeviceView, CampaignView,
    FailureGroup, ProgressPoint, StateCounts, WaveSummary,
};
use crate::campaign::rules::failure_percent;
use crate::db::{params, Row, Sql, SqlExt};
use crate::error::{ApiError, CoreResult, ErrorKind};
use crate::model::now_ms;
use crate::store::Store;

impl Store {
    pub fn campaign_counts(&self, id: i64) -> CoreResult<StateCounts> {
        self.read(|conn| in_snapshot(conn, |conn| counts(conn, id)))
    }

    /// Counts per wave (skipped devices have no wave and are not listed).
    pub fn wave_summaries(&self, id: i64, wave_count: u32) -> CoreResult<Vec<WaveSummary>> {
        let tally = self.read(|conn| in_snapshot(conn, |conn| tally(conn, id)))?;
        Ok(wave_summaries(&tally, wave_count))
    }

    /// The campaign with its counts and its waves' summaries, all counted once, on one snapshot (what the
    /// dashboard shows).
    pub fn campaign_view_with_waves(
        &self,
        id: i64,
    ) -> CoreResult<(CampaignView, Vec<WaveSummary>)> {
        let mut view = self.campaign_header(id)?;
        let tally = self.read(|conn| in_snapshot(conn, |conn| tally(conn, id)))?;
        view.counts = StateCounts::default();
        for &(state, _, n) in &tally {
            view.counts.add(state, n);
        }
        let waves = wave_summaries(&tally, view.wave_count);
        super::note_waiting_for_devices(&mut view);
        Ok((view, waves))
    }

    /// Failed devices grouped by what went wrong, largest group first. The state index is named: left to
    /// itself, SQLite walks every row of the campaign by its primary key (5 ms at 100 000 devices, with
    /// none failed). The device ids are joined with the unit separator (bound: no SQL spelling of it is
    /// common to both engines), which no device id contains.
    pub fn failure_groups(&self, id: i64) -> CoreResult<Vec<FailureGroup>> {
        const SEPARATOR: &str = "\u{1f}";
        self.read(|conn| {
            conn.query_map(
                "SELECT error_code, vendor_code, error_message, MAX(error_hint), COUNT(*),
                        string_agg(device_id, ?2)
                 FROM campaign_devices INDEXED BY campaign_devices_by_state
                 WHERE campaign_id = ?1 AND state = 'failed'
                 GROUP BY error_code, vendor_code, error_message ORDER BY COUNT(*) DESC",
                params![id, SEPARATOR],
                |r| {
                    let code: Option<String> = r.get(0)?;
                    let devices: Option<String> = r.get(5)?;
                    Ok(FailureGroup {
                        code: code
                            .as_deref()
                            .and_then(ErrorKind::parse)
                            .unwrap_or(ErrorKind::Internal),
                        vendor_code: r.get(1)?,
                        message: r
                            .get::<Option<String>>(2)?
                            .unwrap_or_else(|| "Failed.".into()),
                        hint: r.get(3)?,
                        count: r.get(4)?,
                        devices: devices
                            .unwrap_or_default()
                            .split(SEPARATOR)
                            .take(20)
                            .map(str::to_string)
                            .collect(),
                    })
                },
            )
        })
    }

    /// Records the campaign's counts now, for the progress chart; answers them.
    pub fn record_campaign_sample(&self, fence: &Fence<'_>) -> Result<StateCounts, LeaseError> {
        let id = fence.campaign_id;
        self.write_fenced(fence, |tx| {
            let counts = counts(tx, id)?;
            tx.execute(
                "INSERT INTO campaign_samples (campaign_id, at, succeeded, failed, in_flight, pending)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (campaign_id, at) DO UPDATE SET succeeded = excluded.succeeded,
                     failed = excluded.failed, in_flight = excluded.in_flight, pending = excluded.pending",
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
            let all = conn.query_map(
                "SELECT at, succeeded, failed, in_flight, pending FROM campaign_samples
                 WHERE campaign_id = ?1 ORDER BY at",
                params![id],
                |r| {
                    Ok(ProgressPoint {
                        at: r.get(0)?,
                        succeeded: r.get(1)?,
                        failed: r.get(2)?,
                        in_flight: r.get(3)?,
                        pending: r.get(4)?,
                    })
                },
            )?;
            if all.len() <= points || points < 2 {
                return Ok(all);
            }
            let step = (all.len() - 1) as f64 / (points - 1) as f64;
            Ok((0..points)
                .map(|i| all[((i as f64 * step).round() as usize).min(all.len() - 1)].clone())
                .collect())
        })
    }

    /// A page of the campaign's devices in wave order (devices without a wave last), and how many match.
    ///
    /// The page is read without sorting the campaign: each state's range of the `(campaign_id, state,
    /// wave, device_id)` index is already in page order, so SQLite merges those ranges (keys only) and
    /// stops at the page; then the page's rows are read by key. Sorting every row of a 100 000-device
    /// campaign for its first page took ~25 ms, the merge ~1 ms (bench/RESULTS.md, campaign dashboard).
    pub fn campaign_devices(
        &self,
        id: i64,
        query: &CampaignDeviceQuery,
    ) -> CoreResult<CampaignDevicePage> {
        let limit = match query.limit {
            0 => 200,
            n => n.min(1000),
        };
        let states: Vec<CampaignDeviceState> = match query.state {
            Some(state) => vec![state],
            None => CampaignDeviceState::ALL.to_vec(),
        };
        self.read(|conn| {
            in_snapshot(conn, |conn| {
                let matching = match query.wave {
                    Some(wave) => count_in_states(conn, id, &states, Waves::Only(wave))?,
                    None => {
                        count_in_states(conn, id, &states, Waves::Any)?
                            + count_in_states(conn, id, &states, Waves::None)?
                    }
                };
                let rows = match query.wave {
                    Some(wave) => {
                        device_page(conn, id, &states, Waves::Only(wave), limit, query.offset)?
                    }
                    None => {
                        let mut rows =
                            device_page(conn, id, &states, Waves::Any, limit, query.offset)?;
                        let left = limit.saturating_sub(rows.len() as u32);
                        if left > 0 {
                            let with_wave = count_in_states(conn, id, &states, Waves::Any)?;
                            let skip = query.offset.saturating_sub(with_wave);
                            rows.extend(device_page(conn, id, &states, Waves::None, left, skip)?);
                        }
                        rows
                    }
                };
                Ok(CampaignDevicePage { matching, rows })
            })
        })
    }
}

/// Which devices a page reads, by wave.
#[derive(Clone, Copy)]
enum Waves {
    /// Those with a wave, in wave order.
    Any,
    /// Those the pre-flight check left out (no wave).
    None,
    Only(u32),
}

/// How many devices of `states` there are, by wave, from the campaign's tally.
fn count_in_states(
    conn: &dyn Sql,
    id: i64,
    states: &[CampaignDeviceState],
    waves: Waves,
) -> CoreResult<u32> {
    // The tally files the devices without a wave under -1.
    let (first, last) = match waves {
        Waves::Any => (0, i64::MAX),
        Waves::None => (-1, -1),
        Waves::Only(wave) => (i64::from(wave), i64::from(wave)),
    };
    let mut n = 0;
    for state in states {
        n += conn.query_value::<u32>(
            "SELECT COALESCE(SUM(n), 0) FROM campaign_tally
             WHERE campaign_id = ?1 AND state = ?2 AND wave BETWEEN ?3 AND ?4",
            params![id, state.as_str(), first, last],
        )?;
    }
    Ok(n)
}

/// `limit` devices of `states` after the first `offset`, ordered by wave then device id.
fn device_page(
    conn: &dyn Sql,
    id: i64,
    states: &[CampaignDeviceState],
    waves: Waves,
    limit: u32,
    offset: u32,
) -> CoreResult<Vec<CampaignDeviceView>> {
    let wave = match waves {
        Waves::Any => "wave IS NOT NULL",
        Waves::None => "wave IS NULL",
        Waves::Only(_) => "wave = ?4",
    };
    // The states are the enum's own names, never the caller's text. CROSS JOIN keeps the page as the
    // outer loop: SQLite 3.46 would otherwise walk every row of the campaign and look each up in the page.
    // (The join's condition is in WHERE: PostgreSQL takes no ON after CROSS JOIN.)
    let ranges = states
        .iter()
        .map(|state| {
            format!(
                "SELECT account_id, device_id, wave FROM campaign_devices
                 WHERE campaign_id = ?1 AND state = '{}' AND {wave}",
                state.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let sql = format!(
        "SELECT d.account_id, d.device_id, name, model, from_version, d.wave, state, attempts, percent,
                remote_state, reported_at, next_attempt_at, error_code, error_message, error_hint,
                vendor_code, started_at, finished_at
         FROM ({ranges} ORDER BY wave, device_id LIMIT ?2 OFFSET ?3) AS page
         CROSS JOIN campaign_devices d
         WHERE d.campaign_id = ?1 AND d.account_id = page.account_id AND d.device_id = page.device_id
         ORDER BY page.wave, page.device_id"
    );
    match waves {
        Waves::Only(wave) => conn.query_map(&sql, params![id, limit, offset, wave], device_view),
        Waves::Any | Waves::None => conn.query_map(&sql, params![id, limit, offset], device_view),
    }
}

fn device_view(r: &Row) -> CoreResult<CampaignDeviceView> {
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
        state: CampaignDeviceState::parse(&r.get::<String>(6)?),
        attempts: r.get(7)?,
        percent: r.get(8)?,
        remote_state: r.get(9)?,
        reported_at: r.get(10)?,
        next_attempt_at: r.get(11)?,
        error,
        started_at: r.get(16)?,
        finished_at: r.get(17)?,
    })
}

fn wave_summaries(
    tally: &[(CampaignDeviceState, Option<u32>, u32)],
    wave_count: u32,
) -> Vec<WaveSummary> {
    let mut waves: Vec<WaveSummary> = (0..wave_count)
        .map(|index| WaveSummary {
            index,
            counts: StateCounts::default(),
            failure_percent: 0.0,
        })
        .collect();
    for &(state, wave, n) in tally {
        if let Some(w) = wave.and_then(|wave| waves.get_mut(wave as usize)) {
            w.counts.add(state, n);
        }
    }
    for w in &mut waves {
        w.failure_percent = failure_percent(w.counts.succeeded, w.counts.failed);
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::super::tests::{campaign, device, fence, lease};
    use crate::error::{ApiError, ErrorKind};
    use crate::model::Cloud;
    use crate::store::{test_store, DeviceUpdate};

    #[test]
    fn failures_are_grouped_by_what_went_wrong_and_samples_are_kept() {
        let (_dir, store) = test_store();
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let devices: Vec<_> = (0..4)
            .map(|i| device(account.id, &format!("SN{i}")))
            .collect();
        let id = campaign(&store, &devices, &[Some(0); 4]);
        let me = lease(&store, id);
        assert_eq!(
            store.claim_devices(&fence(id, &me), 0, 10).unwrap().len(),
            4
        );
        let failed = |device_id: &str, error: ApiError| DeviceUpdate::Failed {
            account_id: account.id,
            device_id: device_id.into(),
            error,
            retry_at: None,
        };
        let battery = || ApiError::new(ErrorKind::Device, "Battery low");
        store
            .apply_device_updates(
                &fence(id, &me),
                &[
                    failed("SN0", battery().with_hint("Charge it.")),
                    failed("SN1", battery()),
                    failed("SN2", ApiError::new(ErrorKind::Offline, "Gone")),
                    DeviceUpdate::Succeeded {
                        account_id: account.id,
                        device_id: "SN3".into(),
                    },
                ],
                &[],
            )
            .unwrap();

        let groups = store.failure_groups(id).unwrap();
        assert_eq!(groups.len(), 2, "{groups:?}");
        let mut battery_devices = groups[0].devices.clone();
        battery_devices.sort();
        assert_eq!(
            (
                groups[0].code,
                groups[0].message.as_str(),
                groups[0].hint.as_deref(),
                groups[0].count,
                battery_devices
            ),
            (
                ErrorKind::Device,
                "Battery low",
                Some("Charge it."),
                2,
                vec!["SN0".to_string(), "SN1".to_string()]
            )
        );
        assert_eq!(
            (groups[1].code, groups[1].devices.clone()),
            (ErrorKind::Offline, vec!["SN2".to_string()])
        );
        let succeeded = store.succeeded_in_wave(id, 0).unwrap();
        assert_eq!(succeeded.len(), 1);
        assert_eq!(succeeded[0].device_id, "SN3");

        // One sample per millisecond: a second one in the same millisecond replaces the first.
        for _ in 0..3 {
            store.record_campaign_sample(&fence(id, &me)).unwrap();
        }
        let history = store.campaign_history(id, 2).unwrap();
        let last = history.last().expect("sampled");
        assert!(history.len() <= 2);
        assert_eq!(
            (last.succeeded, last.failed, last.in_flight, last.pending),
            (1, 3, 0, 0)
        );

        assert_eq!(store.requeue_failed(id).unwrap(), 3);
        assert_eq!(store.next_due(id, 0).unwrap(), Some(0));
        assert_eq!(store.lowest_open_wave(id).unwrap(), Some(0));
    }
}
