//! The last known Quectel upgrade plan of each device, so the window and `otactl` can show plans without
//! asking the cloud again (and while it is unreachable).

use serde::{Deserialize, Serialize};

use super::Store;
use crate::db::{params, SqlExt};
use crate::error::CoreResult;

/// One device's part in one plan, as last read from the cloud. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedPlan {
    pub account_id: i64,
    pub device_id: String,
    pub plan_id: i64,
    pub plan_name: String,
    pub target_version: String,
    pub plan_start: Option<i64>,
    pub plan_end: Option<i64>,
    pub appoint_start: Option<i64>,
    pub appoint_end: Option<i64>,
    /// Quectel `deviceStatus`: -1 already latest, 0 not upgraded, 1 upgrading, 2 succeeded, 3 failed.
    pub device_status: i64,
    /// Quectel `userConfirmStatus`: 0 unconfirmed, 1 upgrade now, 2 appointed, 3 cancelled, 4 acknowledged.
    pub user_confirm_status: i64,
    /// 0..1.
    pub progress: f64,
    pub refreshed_at: i64,
}

impl Store {
    /// Inserts or replaces these plans (keyed by account, device and plan).
    pub fn save_upgrade_plans(&self, plans: &[CachedPlan]) -> CoreResult<()> {
        self.write(|tx| {
            for p in plans {
                tx.execute("INSERT INTO upgrade_plans (account_id, device_id, plan_id, plan_name,
                    target_version, plan_start, plan_end, appoint_start, appoint_end, device_status,
                    user_confirm_status, progress, refreshed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (account_id, device_id, plan_id) DO UPDATE SET
                    plan_name = excluded.plan_name, target_version = excluded.target_version,
                    plan_start = excluded.plan_start, plan_end = excluded.plan_end,
                    appoint_start = excluded.appoint_start, appoint_end = excluded.appoint_end,
                    device_status = excluded.device_status, user_confirm_status = excluded.user_confirm_status,
                    progress = excluded.progress, refreshed_at = excluded.refreshed_at", params![
                    p.account_id,
                    p.device_id,
                    p.plan_id,
                    p.plan_name,
                    p.target_version,
                    p.plan_start,
                    p.plan_end,
                    p.appoint_start,
                    p.appoint_end,
                    p.device_status,
                    p.user_confirm_status,
                    p.progress,
                    p.refreshed_at
                ])?;
            }
            Ok(())
        })
    }

    /// Cached plans of an account, optionally of one device; newest plan first.
    pub fn upgrade_plans(
        &self,
        account_id: i64,
        device_id: Option<&str>,
    ) -> CoreResult<Vec<CachedPlan>> {
        self.read(|conn| {
            let rows = conn.query_map("SELECT account_id, device_id, plan_id, plan_name, target_version, plan_start, plan_end,
                        appoint_start, appoint_end, device_status, user_confirm_status, progress,
                        refreshed_at
                 FROM upgrade_plans
                 WHERE account_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR device_id = ?2)
                 ORDER BY plan_id DESC, device_id", params![account_id, device_id], |row| {
                Ok(CachedPlan {
                    account_id: row.get(0)?,
                    device_id: row.get(1)?,
                    plan_id: row.get(2)?,
                    plan_name: row.get(3)?,
                    target_version: row.get(4)?,
                    plan_start: row.get(5)?,
                    plan_end: row.get(6)?,
                    appoint_start: row.get(7)?,
                    appoint_end: row.get(8)?,
                    device_status: row.get(9)?,
                    user_confirm_status: row.get(10)?,
                    progress: row.get(11)?,
                    refreshed_at: row.get(12)?,
                })
            })?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cloud, NewAccount};

    #[test]
    fn plans_are_replaced_per_key_and_read_back() {
        let (_dir, store) = crate::store::test_store();
        let account = store
            .add_account(&NewAccount {
                name: "q".into(),
                cloud: Cloud::Quectel,
                base_url: "https://iot-api.acceleronix.io".into(),
                region: None,
                username: Some("u@example.com".into()),
                allow_http: false,
            })
            .unwrap();
        let mut plan = CachedPlan {
            account_id: account.id,
            device_id: "dk".into(),
            plan_id: 7,
            plan_name: "p".into(),
            target_version: "2.0".into(),
            plan_start: Some(1),
            plan_end: Some(2),
            appoint_start: None,
            appoint_end: None,
            device_status: 0,
            user_confirm_status: 0,
            progress: 0.0,
            refreshed_at: 5,
        };
        store.save_upgrade_plans(&[plan.clone()]).unwrap();
        plan.device_status = 2;
        plan.progress = 1.0;
        store.save_upgrade_plans(&[plan.clone()]).unwrap();
        assert_eq!(
            store.upgrade_plans(account.id, None).unwrap(),
            vec![plan.clone()]
        );
        assert_eq!(
            store.upgrade_plans(account.id, Some("dk")).unwrap().len(),
            1
        );
        assert!(store
            .upgrade_plans(account.id, Some("x"))
            .unwrap()
            .is_empty());
    }
}
