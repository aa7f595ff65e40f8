//! Campaign leases in the store (see `crate::campaign::lease` for what they guarantee). The statements
//! are the same on SQLite and PostgreSQL except for the clock they judge expiry by: on SQLite (one
//! machine) the runner's, on PostgreSQL (runners on several machines) the server's `now()`, so machines
//! with skewed clocks agree on when a lease expired. The runner's `now` and `expires_at` then only say
//! how long the lease is taken or renewed for.

use std::time::Duration;

use crate::campaign::lease::{Fence, LeaseError, LeaseTake, RunnerIdentity};
use crate::campaign::model::CampaignLease;
use crate::db::{params, Dialect, Row, Sql, SqlExt};
use crate::error::CoreResult;
use crate::store::{AuditRecord, Store};

const LEASE_COLUMNS: &str = "holder, host, pid, program, acquired_at, expires_at";

fn lease_from_row(row: &Row) -> CoreResult<CampaignLease> {
    Ok(CampaignLease {
        holder: row.get(0)?,
        host: row.get(1)?,
        pid: row.get(2)?,
        program: row.get(3)?,
        acquired_at: row.get(4)?,
        expires_at: row.get(5)?,
    })
}

fn lease_row(conn: &dyn Sql, campaign_id: i64) -> CoreResult<Option<CampaignLease>> {
    conn.query_opt(
        &format!("SELECT {LEASE_COLUMNS} FROM campaign_leases WHERE campaign_id = ?1"),
        params![campaign_id],
        lease_from_row,
    )
}

/// The clock a lease statement judges expiry by, in Unix milliseconds. On SQLite it is the runner's,
/// bound as the statement's last parameter `?{last}` (which the caller binds on SQLite only). On
/// PostgreSQL it is the server's `now()`, the start of the transaction: a renewal then counts from after
/// the runner's `Instant` taken before it, as the runner's send margin assumes.
fn clock(tx: &dyn Sql, last: usize) -> String {
    match tx.dialect() {
        Dialect::Sqlite => format!("?{last}"),
        Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)".to_string(),
    }
}

/// The fence check, first statement of every runner write: renews the lease and answers whether this
/// runner still holds it. One conditional UPDATE, so no other transaction can slip between check and
/// write (SQLite serializes writers; PostgreSQL locks the row until commit, and a writer that waited for
/// it checks the row as the other left it).
fn hold(tx: &dyn Sql, fence: &Fence<'_>) -> CoreResult<bool> {
    let now = clock(tx, 4);
    // The renewal never shortens the lease (scalar MAX, which PostgreSQL spells GREATEST).
    let sql = format!(
        "UPDATE campaign_leases
         SET expires_at = CASE WHEN expires_at > {now} + ?3 THEN expires_at ELSE {now} + ?3 END
         WHERE campaign_id = ?1 AND holder = ?2 AND expires_at > {now}"
    );
    let period = fence.expires_at - fence.now;
    let renewed = match tx.dialect() {
        Dialect::Sqlite => tx.execute(
            &sql,
            params![fence.campaign_id, fence.holder, period, fence.now],
        )?,
        Dialect::Postgres => tx.execute(&sql, params![fence.campaign_id, fence.holder, period])?,
    };
    Ok(renewed == 1)
}

impl Store {
    /// Runs `write` in one transaction that first checks (and renews) the runner's lease: when the lease
    /// is lost, nothing is written.
    pub(super) fn write_fenced<T>(
        &self,
        fence: &Fence<'_>,
        write: impl FnOnce(&dyn Sql) -> CoreResult<T>,
    ) -> Result<T, LeaseError> {
        self.write(|tx| {
            if !hold(tx, fence)? {
                return Ok(None);
            }
            write(tx).map(Some)
        })?
        .ok_or(LeaseError::Lost {
            campaign_id: fence.campaign_id,
        })
    }

    /// The lease of a campaign if it is live at `now` (who runs it); `None` when no runner does. On
    /// PostgreSQL "live" is by the server's clock, as the runners judge it there ([`clock`]).
    pub fn campaign_lease(&self, campaign_id: i64, now: i64) -> CoreResult<Option<CampaignLease>> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {LEASE_COLUMNS} FROM campaign_leases
                 WHERE campaign_id = ?1 AND expires_at > {}",
                clock(conn, 2)
            );
            match conn.dialect() {
                Dialect::Sqlite => conn.query_opt(&sql, params![campaign_id, now], lease_from_row),
                Dialect::Postgres => conn.query_opt(&sql, params![campaign_id], lease_from_row),
            }
        })
    }

    /// Takes a campaign's lease for `me` until `now + period`, if nobody holds it or its holder let it
    /// expire. A takeover from another runner is audited in the same transaction (`actor` names who). On
    /// PostgreSQL `now` is the server's ([`clock`]).
    pub fn take_campaign_lease(
        &self,
        campaign_id: i64,
        me: &RunnerIdentity,
        now: i64,
        period: Duration,
        actor: &str,
    ) -> CoreResult<LeaseTake> {
        let period = period.as_millis() as i64;
        self.write(|tx| {
            let name: Option<String> = tx.query_opt(
                "SELECT name FROM campaigns WHERE id = ?1",
                params![campaign_id],
                |r| r.get(0),
            )?;
            let name = name.ok_or_else(|| super::not_found(campaign_id))?;
            let before = lease_row(tx, campaign_id)?;
            // The WHERE of the upsert is what decides; the read above only says who was there.
            let sql = format!(
                "INSERT INTO campaign_leases (campaign_id, {LEASE_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, {now}, {now} + ?6)
                 ON CONFLICT (campaign_id) DO UPDATE SET
                     holder = excluded.holder, host = excluded.host, pid = excluded.pid,
                     program = excluded.program, acquired_at = excluded.acquired_at,
                     expires_at = excluded.expires_at
                 WHERE campaign_leases.expires_at <= excluded.acquired_at
                    OR campaign_leases.holder = excluded.holder",
                now = clock(tx, 7)
            );
            let taken = match tx.dialect() {
                Dialect::Sqlite => tx.execute(
                    &sql,
                    params![
                        campaign_id,
                        me.holder,
                        me.host,
                        me.pid,
                        me.program,
                        period,
                        now
                    ],
                )?,
                Dialect::Postgres => tx.execute(
                    &sql,
                    params![campaign_id, me.holder, me.host, me.pid, me.program, period],
                )?,
            };
            if taken == 0 {
                let holder = lease_row(tx, campaign_id)?.ok_or_else(|| {
                    crate::error::ApiError::internal("a campaign lease vanished while being taken")
                })?;
                return Ok(LeaseTake::HeldBy(holder));
            }
            let previous = before.filter(|b| b.holder != me.holder);
            if let Some(previous) = &previous {
                let target = format!("campaign #{campaign_id} {name}");
                let detail = format!(
                    "taken over by {} pid {} on host {} from {}, whose lease had expired",
                    me.program,
                    me.pid,
                    me.host,
                    previous.describe()
                );
                crate::store::audit::insert_audit(
                    tx,
                    &[AuditRecord {
                        actor,
                        action: "campaign.takeover",
                        cloud: None,
                        target: Some(&target),
                        result: "ok",
                        detail: Some(&detail),
                    }],
                )?;
            }
            Ok(LeaseTake::Taken { previous })
        })
    }

    /// Renews the lease to `fence.expires_at`; fails with `Lost` when the runner no longer holds it.
    pub fn renew_campaign_lease(&self, fence: &Fence<'_>) -> Result<(), LeaseError> {
        self.write_fenced(fence, |_| Ok(()))
    }

    /// Gives a lease up (only its own holder can); true when it was held.
    pub fn release_campaign_lease(&self, campaign_id: i64, holder: &str) -> CoreResult<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM campaign_leases WHERE campaign_id = ?1 AND holder = ?2",
                params![campaign_id, holder],
            )? == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{campaign, device};
    use super::*;
    use crate::campaign::model::CampaignState;
    use crate::model::Cloud;
    use crate::store::{test_sqlite_store, test_store};

    const PERIOD: Duration = Duration::from_secs(15);
    /// The tests that set the clock themselves (from `T0`) run on SQLite only: on PostgreSQL the
    /// server's clock judges expiry. The frozen runner's test runs on both, on the real clock.
    const T0: i64 = 1_000_000;

    fn runner(name: &str) -> RunnerIdentity {
        RunnerIdentity {
            holder: format!("holder-{name}"),
            host: "build-3".into(),
            pid: 812,
            program: name.into(),
        }
    }

    fn fence<'a>(id: i64, who: &'a RunnerIdentity, now: i64) -> Fence<'a> {
        Fence {
            campaign_id: id,
            holder: &who.holder,
            now,
            expires_at: now + PERIOD.as_millis() as i64,
        }
    }

    fn audited(store: &Store, action: &str) -> Vec<String> {
        store
            .read(|conn| {
                let rows = conn.query_map(
                    "SELECT detail FROM audit_log WHERE action = ?1 ORDER BY id",
                    params![action],
                    |r| r.get::<Option<String>>(0),
                )?;
                Ok(rows.into_iter().flatten().collect())
            })
            .unwrap()
    }

    /// A running campaign of four sandbox cameras, in the given waves.
    fn running_campaign(store: &Store, waves: &[Option<u32>]) -> i64 {
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let devices: Vec<_> = (0..waves.len())
            .map(|i| device(account.id, &format!("SN{i}")))
            .collect();
        let id = campaign(store, &devices, waves);
        store
            .set_campaign_state(id, &[CampaignState::Ready], CampaignState::Running, None)
            .unwrap();
        id
    }

    #[test]
    fn a_lease_is_taken_once_refused_while_held_and_taken_over_after_expiry() {
        let (_dir, store) = test_sqlite_store();
        let id = running_campaign(&store, &[Some(0), Some(0), Some(0), Some(0)]);
        let (first, second) = (runner("otactl"), runner("OTA Console"));

        assert_eq!(
            store
                .take_campaign_lease(id, &first, T0, PERIOD, "t")
                .unwrap(),
            LeaseTake::Taken { previous: None }
        );
        let live = store.campaign_lease(id, T0 + 1).unwrap().expect("held");
        assert_eq!(live.describe(), "otactl pid 812 on host build-3");
        assert_eq!(live.expires_at, T0 + 15_000);

        // Refused while held, even a millisecond before it expires; the holder is named.
        for at in [T0 + 1, T0 + 14_999] {
            match store
                .take_campaign_lease(id, &second, at, PERIOD, "t")
                .unwrap()
            {
                LeaseTake::HeldBy(holder) => assert_eq!(holder.holder, first.holder),
                taken => panic!("taken while held at {at}: {taken:?}"),
            }
        }
        assert!(
            store
                .claim_devices(&fence(id, &second, T0 + 2), 0, 10)
                .is_err(),
            "a runner without the lease claims nothing"
        );

        // The holder renews, works and its renewal moves the expiry.
        let claimed = store
            .claim_devices(&fence(id, &first, T0 + 10_000), 0, 2)
            .unwrap();
        assert_eq!(claimed.len(), 2);
        assert_eq!(
            store.campaign_lease(id, T0).unwrap().unwrap().expires_at,
            T0 + 25_000
        );
        assert!(matches!(
            store.take_campaign_lease(id, &second, T0 + 20_000, PERIOD, "t"),
            Ok(LeaseTake::HeldBy(_))
        ));

        // It stops renewing (killed): after expiry the lease is nobody's, and the next runner takes over.
        assert!(store.campaign_lease(id, T0 + 25_000).unwrap().is_none());
        match store
            .take_campaign_lease(id, &second, T0 + 25_000, PERIOD, "t")
            .unwrap()
        {
            LeaseTake::Taken {
                previous: Some(previous),
            } => assert_eq!(previous.holder, first.holder),
            other => panic!("no takeover: {other:?}"),
        }
        let takeovers = audited(&store, "campaign.takeover");
        assert_eq!(takeovers.len(), 1, "{takeovers:?}");
        assert!(
            takeovers[0].contains("from otactl pid 812 on host build-3"),
            "{takeovers:?}"
        );
        // Only then are the devices the first runner left in flight for the new one to recover.
        assert_eq!(store.in_flight_devices(id).unwrap().len(), 2);

        // Released by its holder, it is free at once; a stranger cannot release it.
        assert!(!store.release_campaign_lease(id, &first.holder).unwrap());
        assert!(store.release_campaign_lease(id, &second.holder).unwrap());
        assert_eq!(
            store
                .take_campaign_lease(id, &first, T0 + 25_001, PERIOD, "t")
                .unwrap(),
            LeaseTake::Taken { previous: None },
            "a released lease is no takeover"
        );
        assert!(
            store
                .take_campaign_lease(999, &first, T0, PERIOD, "t")
                .is_err(),
            "no lease for a campaign that does not exist"
        );
    }

    #[test]
    fn a_holder_that_lost_its_lease_cannot_write_anything() {
        let (_dir, store) = test_sqlite_store();
        let id = running_campaign(&store, &[Some(0), Some(0), Some(0), Some(1)]);
        let (paused, other) = (runner("paused"), runner("other"));
        store
            .take_campaign_lease(id, &paused, T0, PERIOD, "t")
            .unwrap();
        let claimed = store.claim_devices(&fence(id, &paused, T0), 0, 1).unwrap();
        assert_eq!(claimed.len(), 1);

        // Frozen (SIGSTOP) past its expiry: even before anyone takes over, its writes are refused.
        let late = T0 + 15_000;
        fn lost<T>(result: Result<T, LeaseError>) -> bool {
            matches!(result, Err(LeaseError::Lost { .. }))
        }
        assert!(lost(store.renew_campaign_lease(&fence(id, &paused, late))));
        assert!(lost(store.claim_devices(&fence(id, &paused, late), 0, 10)));

        // Another runner took over: nothing the old holder tries lands, in any write it makes.
        store
            .take_campaign_lease(id, &other, late, PERIOD, "t")
            .unwrap();
        let now = late + 1;
        let old = fence(id, &paused, now);
        let before = store.campaign_view(id).unwrap();
        assert!(lost(store.claim_devices(&old, 1, 10)));
        assert!(lost(store.apply_device_updates(
            &old,
            &[crate::store::DeviceUpdate::Succeeded {
                account_id: claimed[0].account_id,
                device_id: claimed[0].device_id.clone(),
            }],
            &[AuditRecord {
                actor: "t",
                action: "campaign.device.start",
                cloud: Some(Cloud::Vicohome),
                target: Some("x"),
                result: "ok",
                detail: None,
            }],
        )));
        assert!(lost(store.record_campaign_sample(&old)));
        let complete = AuditRecord {
            actor: "t",
            action: "campaign.complete",
            cloud: None,
            target: None,
            result: "ok",
            detail: None,
        };
        let passed = AuditRecord {
            action: "campaign.wave_passed",
            ..complete.clone()
        };
        assert!(lost(store.move_to_wave(&old, 1, &passed)));
        assert!(lost(store.end_campaign_run(
            &old,
            None,
            CampaignState::Completed,
            None,
            &[complete],
        )));
        assert!(lost(store.renew_campaign_lease(&old)));
        assert!(!store.release_campaign_lease(id, &paused.holder).unwrap());
        let after = store.campaign_view(id).unwrap();
        assert_eq!(
            (after.state, after.current_wave, after.counts.clone()),
            (before.state, before.current_wave, before.counts.clone()),
            "nothing changed"
        );
        assert!(audited(&store, "campaign.device.start").is_empty());
        assert!(audited(&store, "campaign.complete").is_empty());
        assert!(audited(&store, "campaign.wave_passed").is_empty());
        assert_eq!(
            store.campaign_lease(id, now).unwrap().unwrap().holder,
            other.holder,
            "the new holder keeps it"
        );
        // The new holder's writes go through.
        assert_eq!(
            store
                .claim_devices(&fence(id, &other, now), 0, 10)
                .unwrap()
                .len(),
            2
        );
    }

    #[tokio::test]
    async fn a_runner_frozen_past_its_lease_sends_nothing_and_stops_at_its_next_write() {
        use crate::campaign::lease::HeldLease;

        let (_dir, store) = test_store();
        let account = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let devices: Vec<_> = (0..2)
            .map(|i| device(account.id, &format!("SN{i}")))
            .collect();
        let id = campaign(&store, &devices, &[Some(0), Some(0)]);
        let period = Duration::from_millis(300);
        let me = RunnerIdentity::new();
        let held = HeldLease::take(&store, id, &me, period, "t")
            .unwrap()
            .expect("a free lease is taken");
        held.ready_to_send().await.expect("a fresh lease may send");
        assert!(
            HeldLease::take(&store, id, &RunnerIdentity::new(), period, "t")
                .unwrap()
                .is_err(),
            "a second runner of the same process follows"
        );

        // Frozen longer than the period; meanwhile another runner takes the campaign over.
        std::thread::sleep(period + Duration::from_millis(50));
        let other = RunnerIdentity::new();
        assert!(matches!(
            store.take_campaign_lease(id, &other, crate::model::now_ms(), PERIOD, "t"),
            Ok(LeaseTake::Taken { previous: Some(_) })
        ));

        // Thawed: its device tasks hold their starts back instead of sending...
        assert!(
            tokio::time::timeout(Duration::from_millis(100), held.ready_to_send())
                .await
                .is_err(),
            "no start while the lease is not known to be valid"
        );
        // ...its next write or renewal finds the lease lost, and from then on nothing is sent or written.
        assert!(matches!(held.renew(), Err(LeaseError::Lost { .. })));
        assert!(held.ready_to_send().await.is_err());
        assert!(matches!(
            held.write(|fence| store.claim_devices(fence, 0, 10)),
            Err(LeaseError::Lost { .. })
        ));
        assert_eq!(store.campaign_view(id).unwrap().counts.pending, 2);
    }
}
