//! Campaigns in the store (SQLite or PostgreSQL). Every device's state is written before the action it
//! describes is sent, and the runner's many small updates land in batches (one transaction each). Every
//! write a runner makes takes a [`Fence`]: it lands only while that runner holds the campaign's lease
//! (`leases`).
//!
//! Here: creating a campaign and its state changes. The runner's device queue (claims, batched updates,
//! retries) is in `claims`, closing a continuous campaign and devices joining it in `continuous`, what the
//! dashboard reads in `views`; the devices a campaign may target come
//! from the device store (`crate::store::devices`).
//!
//! Over 600 lines only with its tests (the code is under 560 lines).

mod claims;
mod continuous;
mod leases;
mod views;

use crate::campaign::lease::{Fence, LeaseError};
use crate::campaign::model::CampaignWait;
use crate::campaign::model::{
    CampaignDeviceState, CampaignRules, CampaignSettings, CampaignState, CampaignView, StateCounts,
    WaveGate,
};
use crate::campaign::rules;
use crate::db::{params, Dialect, Row, Sql, SqlExt};
use crate::error::{ApiError, CoreResult, ErrorKind};
use crate::model::{now_ms, Cloud, Device, DeviceQuery};
use crate::store::Store;

pub use claims::{ClaimedDevice, DeviceUpdate};

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
    pub rules: &'a CampaignRules,
    /// The cohort it targets, when it targets one.
    pub cohort_id: Option<i64>,
}

const VIEW_COLUMNS: &str = "c.id, c.name, c.firmware_id, f.version, f.file_name, f.cloud, c.state, c.settings,
     c.target_filter, c.wave_count, c.current_wave, c.reason, c.created_by, c.created_at, c.started_at,
     c.finished_at, c.bake_secs, c.gate_manual, c.device_timeout_secs, c.verify_version, c.require_approval,
     c.approved_by, c.approved_at, c.wave_approved, c.wave_done_at, c.continuous, c.closed, c.cohort_id";

fn view_from_row(row: &Row) -> CoreResult<CampaignView> {
    let cloud: String = row.get(5)?;
    let state: String = row.get(6)?;
    let settings: String = row.get(7)?;
    let filter: Option<String> = row.get(8)?;
    let rules = CampaignRules {
        bake_secs: row.get(16)?,
        gate: if row.get::<bool>(17)? {
            WaveGate::Manual
        } else {
            WaveGate::Auto
        },
        device_timeout_secs: row.get(18)?,
        verify_version: row.get(19)?,
        require_approval: row.get(20)?,
        continuous: row.get(25)?,
    };
    let approved_by: Option<String> = row.get(21)?;
    let current_wave: u32 = row.get(10)?;
    let wave_count: u32 = row.get(9)?;
    let wave_approved: u32 = row.get(23)?;
    let wave_done_at: Option<i64> = row.get(24)?;
    let state = rules::effective_state(CampaignState::parse(&state), &rules, approved_by.is_some());
    let waiting = match state {
        CampaignState::AwaitingApproval => Some(CampaignWait::AwaitingApproval),
        CampaignState::Running => rules::wave_hold(
            &rules,
            current_wave,
            wave_count,
            wave_done_at,
            wave_approved,
            now_ms(),
        ),
        _ => None,
    };
    Ok(CampaignView {
        id: row.get(0)?,
        name: row.get(1)?,
        firmware_id: row.get(2)?,
        firmware_version: row.get(3)?,
        firmware_file: row.get(4)?,
        cloud: Cloud::parse(&cloud).unwrap_or(Cloud::Vicohome),
        state,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        target_filter: filter.and_then(|f| serde_json::from_str(&f).ok()),
        wave_count,
        current_wave,
        reason: row.get(11)?,
        created_by: row.get(12)?,
        created_at: row.get(13)?,
        started_at: row.get(14)?,
        finished_at: row.get(15)?,
        counts: StateCounts::default(),
        rules,
        approved_by,
        approved_at: row.get(22)?,
        wave_approved,
        waiting,
        closed: row.get(26)?,
        cohort_id: row.get(27)?,
    })
}

/// A continuous campaign that is running, not closed, on its last wave with no device open waits for new
/// devices (unless a rule holds it already). Needs the view's counts.
pub(crate) fn note_waiting_for_devices(view: &mut CampaignView) {
    if view.waiting.is_none()
        && view.state == CampaignState::Running
        && view.rules.continuous
        && !view.closed
        && view.current_wave + 1 >= view.wave_count
        && view.counts.open() == 0
    {
        view.waiting = Some(CampaignWait::WaitingForDevices);
    }
}

/// Runs `f` on one snapshot of the database (a read transaction), so that counts made with several
/// statements agree with each other while a runner writes. A PostgreSQL read is one transaction already
/// ([`Store::read`]); SQLite's reader connection is not, so one is begun here.
fn in_snapshot<T>(conn: &dyn Sql, f: impl FnOnce(&dyn Sql) -> CoreResult<T>) -> CoreResult<T> {
    if conn.dialect() == Dialect::Postgres {
        return f(conn);
    }
    /// Ends the read transaction however `f` ends (an error or a panic included): the reader connection
    /// must not stay inside it.
    struct Snapshot<'a>(&'a dyn Sql);
    impl Drop for Snapshot<'_> {
        fn drop(&mut self) {
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
    conn.execute_batch("BEGIN")?;
    let snapshot = Snapshot(conn);
    f(snapshot.0)
}

/// Devices per state, from the tally the triggers of migration 0010 keep beside the rows (a read of a
/// few rows, where counting a 100 000-device campaign's index ranges took ~10 ms; bench/RESULTS.md).
fn counts(conn: &dyn Sql, id: i64) -> CoreResult<StateCounts> {
    let mut counts = StateCounts::default();
    for (state, _, n) in tally(conn, id)? {
        counts.add(state, n);
    }
    Ok(counts)
}

/// Devices per state and wave (`None`: left out by the pre-flight check), as the tally holds them.
fn tally(conn: &dyn Sql, id: i64) -> CoreResult<Vec<(CampaignDeviceState, Option<u32>, u32)>> {
    conn.query_map(
        "SELECT state, wave, n FROM campaign_tally WHERE campaign_id = ?1 AND n > 0 ORDER BY wave, state",
        params![id],
        |r| {
            let state = CampaignDeviceState::parse(&r.get::<String>(0)?);
            let wave: i64 = r.get(1)?;
            Ok((state, u32::try_from(wave).ok(), r.get(2)?))
        },
    )
}

fn put_wave(tx: &dyn Sql, id: i64, wave: u32) -> CoreResult<()> {
    tx.execute(
        "UPDATE campaigns SET current_wave = ?2, wave_done_at = NULL, updated_at = ?3 WHERE id = ?1",
        params![id, wave, now_ms()],
    )?;
    Ok(())
}

/// Moves a campaign to `to` (its caller checked the state it comes from, in the same transaction).
fn put_state(tx: &dyn Sql, id: i64, to: CampaignState, reason: Option<&str>) -> CoreResult<()> {
    let now = now_ms();
    // CAST: PostgreSQL cannot always tell a parameter's type from `THEN ? ELSE NULL`.
    tx.execute(
        "UPDATE campaigns SET state = ?2, reason = ?3, updated_at = ?4,
             started_at = CASE WHEN ?2 = 'running' AND started_at IS NULL THEN ?4 ELSE started_at END,
             finished_at = CASE WHEN ?2 IN ('completed', 'aborted', 'cancelled') THEN CAST(?4 AS BIGINT)
                           ELSE NULL END
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
}

/// A campaign's state as the rules see it (a ready campaign that requires approval and has none is
/// awaiting approval), read in the caller's transaction.
fn stored_state(tx: &dyn Sql, id: i64) -> CoreResult<CampaignState> {
    let row: Option<(String, bool, Option<String>)> = tx.query_opt(
        "SELECT state, require_approval, approved_by FROM campaigns WHERE id = ?1",
        params![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (state, require_approval, approved_by) = row.ok_or_else(|| not_found(id))?;
    Ok(rules::effective_state(
        CampaignState::parse(&state),
        &CampaignRules {
            require_approval,
            ..CampaignRules::default()
        },
        approved_by.is_some(),
    ))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("No campaign #{id}."))
        .with_hint("`otactl campaign list` shows the campaigns.")
}

impl Store {
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
            let id: i64 = tx.query_value(
                "INSERT INTO campaigns (name, firmware_id, state, settings, target_filter, wave_count,
                                        created_by, created_at, updated_at, bake_secs, gate_manual,
                                        device_timeout_secs, verify_version, require_approval,
                                        continuous, cohort_id)
                 VALUES (?1, ?2, 'ready', ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 RETURNING id",
                params![
                    campaign.name,
                    campaign.firmware_id,
                    settings,
                    filter,
                    campaign.wave_count,
                    campaign.created_by,
                    now,
                    campaign.rules.bake_secs,
                    campaign.rules.gate == WaveGate::Manual,
                    campaign.rules.device_timeout_secs,
                    campaign.rules.verify_version,
                    campaign.rules.require_approval,
                    campaign.rules.continuous,
                    campaign.cohort_id
                ],
            )?;
            for row in devices {
                let d = row.device;
                let state = if row.wave.is_some() {
                    CampaignDeviceState::Pending
                } else {
                    CampaignDeviceState::Skipped
                };
                tx.execute(
                    "INSERT INTO campaign_devices (campaign_id, account_id, device_id, cloud, product_key,
                                                   model, name, from_version, wave, state, error_code,
                                                   error_message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
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
                    ],
                )?;
            }
            Ok(id)
        })
    }

    pub fn campaign_view(&self, id: i64) -> CoreResult<CampaignView> {
        let mut view = self.campaign_header(id)?;
        view.counts = self.read(|conn| in_snapshot(conn, |conn| counts(conn, id)))?;
        note_waiting_for_devices(&mut view);
        Ok(view)
    }

    /// The campaign without its counts (cheap: the runner reads it every round).
    pub fn campaign_header(&self, id: i64) -> CoreResult<CampaignView> {
        self.read(|conn| {
            let view = conn.query_opt(
                &format!(
                    "SELECT {VIEW_COLUMNS} FROM campaigns c JOIN firmware f ON f.id = c.firmware_id
                     WHERE c.id = ?1"
                ),
                params![id],
                view_from_row,
            )?;
            Ok(view.ok_or_else(|| not_found(id))?)
        })
    }

    /// Newest first.
    pub fn campaign_views(&self) -> CoreResult<Vec<CampaignView>> {
        self.read(|conn| {
            let mut views = conn.query_map(
                &format!(
                    "SELECT {VIEW_COLUMNS} FROM campaigns c JOIN firmware f ON f.id = c.firmware_id
                     ORDER BY c.id DESC"
                ),
                params![],
                view_from_row,
            )?;
            for view in &mut views {
                view.counts = in_snapshot(conn, |conn| counts(conn, view.id))?;
                note_waiting_for_devices(view);
            }
            Ok(views)
        })
    }

    /// Campaigns a runner should be working on (after a restart).
    pub fn running_campaigns(&self) -> CoreResult<Vec<i64>> {
        self.read(|conn| {
            conn.query_map(
                "SELECT c.id FROM campaigns c WHERE c.state = 'running'
                 OR EXISTS (SELECT 1 FROM campaign_devices d WHERE d.campaign_id = c.id
                            AND d.state IN ('starting', 'running'))",
                params![],
                |r| r.get(0),
            )
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
            let current = stored_state(tx, id)?;
            if !from.contains(&current) {
                let mut err = ApiError::new(
                    ErrorKind::Conflict,
                    format!(
                        "Campaign #{id} is {}; it cannot become {}.",
                        current.as_str().replace('_', " "),
                        to.as_str()
                    ),
                );
                if current == CampaignState::AwaitingApproval {
                    err = err.with_hint(format!(
                        "A user other than its creator approves it: `otactl campaign approve {id}`."
                    ));
                }
                return Err(err.into());
            }
            put_state(tx, id, to, reason)?;
            Ok(())
        })?;
        self.campaign_view(id)
    }

    pub fn set_current_wave(&self, id: i64, wave: u32) -> CoreResult<()> {
        self.write(|tx| put_wave(tx, id, wave))
    }

    /// The runner moves on to `wave` (its lease checked), with the audit record of the wave it passed, in
    /// one transaction.
    pub fn move_to_wave(
        &self,
        fence: &Fence<'_>,
        wave: u32,
        audit: &crate::store::AuditRecord<'_>,
    ) -> Result<(), LeaseError> {
        self.write_fenced(fence, |tx| {
            put_wave(tx, fence.campaign_id, wave)?;
            crate::store::audit::insert_audit(tx, std::slice::from_ref(audit))
        })
    }

    /// The runner ends its run of a wave as `to` (completed, aborted, paused), with why, its audit records
    /// (in order) and (when pausing) the wave a resume starts from, in one transaction under its lease.
    /// Only a campaign still running changes: one the user paused or cancelled meanwhile keeps that state,
    /// which is answered.
    pub fn end_campaign_run(
        &self,
        fence: &Fence<'_>,
        next_wave: Option<u32>,
        to: CampaignState,
        reason: Option<&str>,
        audit: &[crate::store::AuditRecord<'_>],
    ) -> Result<CampaignState, LeaseError> {
        let id = fence.campaign_id;
        self.write_fenced(fence, |tx| {
            let current: Option<String> = tx.query_opt(
                "SELECT state FROM campaigns WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            let current = CampaignState::parse(&current.ok_or_else(|| not_found(id))?);
            if current != CampaignState::Running {
                return Ok(current);
            }
            if let Some(wave) = next_wave {
                put_wave(tx, id, wave)?;
            }
            put_state(tx, id, to, reason)?;
            crate::store::audit::insert_audit(tx, audit)?;
            Ok(to)
        })
    }

    /// Records `by`'s approval of a campaign awaiting it. Refused to its creator, and when it does not
    /// await approval; checked and written in one transaction.
    pub fn approve_campaign(&self, id: i64, by: &str) -> CoreResult<()> {
        self.write(|tx| {
            if stored_state(tx, id)? != CampaignState::AwaitingApproval {
                let approved: Option<String> = tx.query_value(
                    "SELECT approved_by FROM campaigns WHERE id = ?1",
                    params![id],
                )?;
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    match approved {
                        Some(who) => format!("Campaign #{id} was already approved by {who}."),
                        None => format!("Campaign #{id} does not await approval."),
                    },
                )
                .into());
            }
            let creator: String = tx.query_value(
                "SELECT created_by FROM campaigns WHERE id = ?1",
                params![id],
            )?;
            if creator == by {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!(
                        "You ({by}) created campaign #{id}; it must be approved by another user."
                    ),
                )
                .with_hint("Ask a colleague to run `otactl campaign approve` on this data folder.")
                .into());
            }
            tx.execute(
                "UPDATE campaigns SET approved_by = ?2, approved_at = ?3, updated_at = ?3 WHERE id = ?1",
                params![id, by, now_ms()],
            )?;
            Ok(())
        })
    }

    /// Manual gate: lets the wave after the current one start; answers its 0-based index. Refused when
    /// the campaign has no manual gate, has ended, or is on its last wave.
    pub fn approve_wave(&self, id: i64) -> CoreResult<u32> {
        self.write(|tx| {
            let state = stored_state(tx, id)?;
            let (gate_manual, current, count, approved): (bool, u32, u32, u32) = tx.query_row(
                "SELECT gate_manual, current_wave, wave_count, wave_approved FROM campaigns WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            let refuse = |why: String| -> CoreResult<u32> {
                Err(ApiError::new(ErrorKind::Conflict, why).into())
            };
            if !gate_manual {
                return refuse(format!(
                    "Campaign #{id} has no manual gate: its waves start on their own."
                ));
            }
            if !matches!(state, CampaignState::Running | CampaignState::Paused) {
                return refuse(format!(
                    "Campaign #{id} is {}; only a running or paused campaign's next wave can be approved.",
                    state.as_str().replace('_', " ")
                ));
            }
            let next = current + 1;
            if next >= count {
                return refuse(format!(
                    "Campaign #{id} is on its last wave; there is no next wave to approve."
                ));
            }
            if approved >= next {
                return refuse(format!("Wave {} of campaign #{id} is already approved.", next + 1));
            }
            tx.execute(
                "UPDATE campaigns SET wave_approved = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, next, now_ms()],
            )?;
            Ok(next)
        })
    }

    /// The runner found the current wave ended within its threshold: the bake counts from now (kept if
    /// already set). Answers when it ended.
    pub fn mark_wave_done(&self, fence: &Fence<'_>) -> Result<i64, LeaseError> {
        let id = fence.campaign_id;
        self.write_fenced(fence, |tx| {
            tx.execute(
                "UPDATE campaigns SET wave_done_at = ?2, updated_at = ?2
                 WHERE id = ?1 AND wave_done_at IS NULL",
                params![id, now_ms()],
            )?;
            tx.query_value(
                "SELECT wave_done_at FROM campaigns WHERE id = ?1",
                params![id],
            )
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
            tx.execute("DELETE FROM campaigns WHERE id = ?1", params![id])?;
            Ok(())
        })?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::lease::{LeaseTake, RunnerIdentity};
    use crate::library::NewFirmwareEntry;
    use crate::store::test_store;

    /// Takes the campaign's lease for a new runner; its fences are good for the test's duration.
    pub(super) fn lease(store: &Store, id: i64) -> RunnerIdentity {
        let me = RunnerIdentity::new();
        let taken = store
            .take_campaign_lease(id, &me, now_ms(), std::time::Duration::from_secs(600), "t")
            .unwrap();
        assert!(matches!(taken, LeaseTake::Taken { .. }));
        me
    }

    pub(super) fn fence(id: i64, me: &RunnerIdentity) -> Fence<'_> {
        Fence {
            campaign_id: id,
            holder: &me.holder,
            now: now_ms(),
            expires_at: now_ms() + 600_000,
        }
    }

    /// The tally the dashboard reads agrees with the rows themselves, per wave and state.
    fn assert_tally_is_exact(store: &Store, id: i64) {
        let counted = store
            .read(|conn| {
                conn.query_map(
                    "SELECT state, wave, COUNT(*) FROM campaign_devices WHERE campaign_id = ?1
                     GROUP BY wave, state ORDER BY COALESCE(wave, -1), state",
                    params![id],
                    |r| {
                        Ok((
                            CampaignDeviceState::parse(&r.get::<String>(0)?),
                            r.get::<Option<u32>>(1)?,
                            r.get::<u32>(2)?,
                        ))
                    },
                )
            })
            .unwrap();
        let kept = store.read(|conn| tally(conn, id)).unwrap();
        assert_eq!(kept, counted);
    }

    pub(super) fn device(account_id: i64, id: &str) -> Device {
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
            tags: Vec::new(),
        }
    }

    pub(super) fn campaign(store: &Store, devices: &[Device], waves: &[Option<u32>]) -> i64 {
        campaign_with_rules(store, devices, waves, &CampaignRules::default())
    }

    /// A campaign of two waves created by "t".
    pub(super) fn campaign_with_rules(
        store: &Store,
        devices: &[Device],
        waves: &[Option<u32>],
        rules: &CampaignRules,
    ) -> i64 {
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
                    rules,
                    cohort_id: None,
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
        let me = lease(&store, id);

        let first = store.claim_devices(&fence(id, &me), 0, 10).unwrap();
        assert_eq!(first.len(), 2, "wave 0 only");
        assert!(first.iter().all(|c| c.attempts == 1));
        assert!(
            store
                .claim_devices(&fence(id, &me), 0, 10)
                .unwrap()
                .is_empty(),
            "never twice"
        );
        assert_eq!(store.in_flight_devices(id).unwrap().len(), 2);
        assert_eq!(store.lowest_open_wave(id).unwrap(), Some(0));

        store
            .apply_device_updates(
                &fence(id, &me),
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
            store
                .claim_devices(&fence(id, &me), 0, 10)
                .unwrap()
                .is_empty(),
            "a retry waits for its time"
        );
        let waves = store.wave_summaries(id, 2).unwrap();
        assert_eq!(waves[0].counts.succeeded, 1);
        assert_eq!(waves[1].counts.pending, 3);
        let next = store.claim_devices(&fence(id, &me), 1, 2).unwrap();
        assert_eq!(next.len(), 2);
        assert!(next.iter().all(|c| c.wave == 1));
        assert_tally_is_exact(&store, id);
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
        let me = lease(&store, id);
        store.claim_devices(&fence(id, &me), 0, 1).unwrap();
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
        assert_tally_is_exact(&store, id);
    }

    #[test]
    fn the_tally_follows_deleted_campaigns_and_accounts() {
        let (_dir, store) = test_store();
        let vico = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let other = store
            .upsert_sandbox_account(Cloud::Vicohome, "Second", "http://127.0.0.1:2", None)
            .unwrap();
        let devices = [
            device(vico.id, "SN0"),
            device(vico.id, "SN1"),
            device(other.id, "SN0"),
        ];
        let kept = campaign(&store, &devices, &[Some(0), None, Some(1)]);
        let deleted = campaign(&store, &devices, &[Some(0), Some(0), Some(0)]);
        store.delete_campaign(deleted).unwrap();
        assert_tally_is_exact(&store, deleted);
        assert_eq!(store.campaign_counts(deleted).unwrap().total, 0);
        store.remove_account("Second").unwrap();
        assert_tally_is_exact(&store, kept);
        let counts = store.campaign_counts(kept).unwrap();
        assert_eq!((counts.total, counts.pending, counts.skipped), (2, 1, 1));
    }

    #[test]
    fn device_pages_run_in_wave_order_across_states_with_left_out_devices_last() {
        use crate::campaign::model::CampaignDeviceQuery;

        let (_dir, store) = test_store();
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        // Ids out of order, so that the page order is the store's doing.
        let ids = ["SN5", "SN1", "SN4", "SN0", "SN3", "SN2", "SN7", "SN6"];
        let devices: Vec<Device> = ids.iter().map(|id| device(account.id, id)).collect();
        let waves = [
            Some(1),
            Some(0),
            None,
            Some(1),
            Some(0),
            Some(1),
            None,
            Some(0),
        ];
        let id = campaign(&store, &devices, &waves);
        let me = lease(&store, id);
        // Devices of wave 0 in three states: starting, succeeded, pending.
        let claimed = store.claim_devices(&fence(id, &me), 0, 2).unwrap();
        assert_eq!(claimed.len(), 2);
        store
            .apply_device_updates(
                &fence(id, &me),
                &[DeviceUpdate::Succeeded {
                    account_id: account.id,
                    device_id: claimed[0].device_id.clone(),
                }],
                &[],
            )
            .unwrap();

        let page = |state: Option<CampaignDeviceState>, wave: Option<u32>, offset, limit| {
            let page = store
                .campaign_devices(
                    id,
                    &CampaignDeviceQuery {
                        state,
                        wave,
                        offset,
                        limit,
                    },
                )
                .unwrap();
            let ids: Vec<String> = page.rows.into_iter().map(|r| r.device_id).collect();
            (page.matching, ids)
        };
        let all = ["SN1", "SN3", "SN6", "SN0", "SN2", "SN5", "SN4", "SN7"];
        assert_eq!(page(None, None, 0, 0), (8, all.map(String::from).to_vec()));
        // Pages that end in, start in and straddle the devices without a wave.
        for (offset, limit) in [(0, 3), (3, 3), (5, 2), (5, 3), (6, 2), (7, 5), (8, 2)] {
            let (matching, ids) = page(None, None, offset, limit);
            let end = (offset + limit).min(8) as usize;
            let expected: Vec<String> = all[(offset as usize).min(8)..end]
                .iter()
                .map(|s| s.to_string())
                .collect();
            assert_eq!(
                (matching, ids),
                (8, expected),
                "offset {offset}, limit {limit}"
            );
        }
        assert_eq!(
            page(None, Some(0), 1, 0),
            (3, vec!["SN3".to_string(), "SN6".to_string()])
        );
        assert_eq!(
            page(Some(CampaignDeviceState::Skipped), None, 0, 0),
            (2, vec!["SN4".to_string(), "SN7".to_string()])
        );
        assert_eq!(
            page(Some(CampaignDeviceState::Pending), None, 0, 2),
            (4, vec!["SN6".to_string(), "SN0".to_string()])
        );

        let (view, waves) = store.campaign_view_with_waves(id).unwrap();
        let c = &view.counts;
        assert_eq!(
            (c.total, c.pending, c.in_flight, c.succeeded, c.skipped),
            (8, 4, 1, 1, 2)
        );
        assert_eq!(c, &store.campaign_view(id).unwrap().counts);
        assert_eq!(
            (
                waves[0].counts.total,
                waves[0].counts.succeeded,
                waves[1].counts.pending
            ),
            (3, 1, 3)
        );
    }

    #[test]
    fn approvals_gates_and_the_end_of_a_run_are_checked_and_written() {
        let (_dir, store) = test_store();
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let devices = [device(account.id, "SN0"), device(account.id, "SN1")];
        let rules = CampaignRules {
            require_approval: true,
            gate: WaveGate::Manual,
            ..CampaignRules::default()
        };
        let id = campaign_with_rules(&store, &devices, &[Some(0), Some(1)], &rules);
        assert_eq!(
            store.campaign_header(id).unwrap().state,
            CampaignState::AwaitingApproval
        );
        assert!(
            store.approve_campaign(id, "t").is_err(),
            "never by its creator"
        );
        store.approve_campaign(id, "ana").unwrap();
        let err = store.approve_campaign(id, "bo").unwrap_err();
        assert!(err.to_string().contains("already approved by ana"), "{err}");
        store
            .set_campaign_state(id, &[CampaignState::Ready], CampaignState::Running, None)
            .unwrap();
        assert_eq!(store.running_campaigns().unwrap(), vec![id]);
        let views = store.campaign_views().unwrap();
        assert_eq!((views.len(), views[0].counts.pending), (1, 2));

        assert_eq!(store.approve_wave(id).unwrap(), 1);
        assert!(store.approve_wave(id).is_err(), "approved already");
        let me = lease(&store, id);
        let done = store.mark_wave_done(&fence(id, &me)).unwrap();
        assert_eq!(
            store.mark_wave_done(&fence(id, &me)).unwrap(),
            done,
            "kept once set"
        );
        let audit = crate::store::AuditRecord {
            actor: "t",
            action: "campaign.complete",
            cloud: None,
            target: None,
            result: "ok",
            detail: None,
        };
        store
            .move_to_wave(
                &fence(id, &me),
                1,
                &crate::store::AuditRecord {
                    action: "campaign.wave_passed",
                    ..audit.clone()
                },
            )
            .unwrap();
        let view = store.campaign_header(id).unwrap();
        assert_eq!((view.current_wave, view.wave_approved), (1, 1));
        let end = |next_wave, to, reason| {
            store
                .end_campaign_run(
                    &fence(id, &me),
                    next_wave,
                    to,
                    reason,
                    std::slice::from_ref(&audit),
                )
                .unwrap()
        };
        assert_eq!(
            end(None, CampaignState::Completed, Some("done")),
            CampaignState::Completed
        );
        // A run ending after its campaign ended changes nothing, and answers the state it found.
        assert_eq!(
            end(Some(0), CampaignState::Aborted, None),
            CampaignState::Completed
        );
        let view = store.campaign_header(id).unwrap();
        assert_eq!(
            (view.state, view.reason.as_deref(), view.current_wave),
            (CampaignState::Completed, Some("done"), 1)
        );
        assert!(view.finished_at.is_some());
        assert!(store.running_campaigns().unwrap().is_empty());
    }
}
