//! Versioned schema migrations, embedded in the binary and applied all-or-nothing at start.

use rusqlite::Connection;

use crate::error::{CoreError, CoreResult};

/// Every migration in order; `PRAGMA user_version` records how many have been applied.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_manual_devices.sql")),
    (
        3,
        include_str!("../../migrations/0003_bulk_search_and_count.sql"),
    ),
    (
        4,
        include_str!("../../migrations/0004_library_and_campaigns.sql"),
    ),
    (
        5,
        include_str!("../../migrations/0005_campaign_claim_order.sql"),
    ),
    (
        6,
        include_str!("../../migrations/0006_account_plain_http.sql"),
    ),
    (7, include_str!("../../migrations/0007_campaign_leases.sql")),
    (8, include_str!("../../migrations/0008_store_identity.sql")),
    (9, include_str!("../../migrations/0009_campaign_rules.sql")),
    (10, include_str!("../../migrations/0010_campaign_tally.sql")),
    (11, include_str!("../../migrations/0011_tags_cohorts.sql")),
    (
        12,
        include_str!("../../migrations/0012_campaign_templates.sql"),
    ),
    (13, include_str!("../../migrations/0013_webhooks.sql")),
];

pub fn run(conn: &mut Connection) -> CoreResult<()> {
    let known = MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0);
    let current: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current > known {
        return Err(CoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    if current == known {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    // Read again under the exclusive lock: two first starts may both have seen the old version, and only
    // the first to get the lock may apply the migrations.
    let current: u32 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current >= known {
        return Ok(());
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(sql)
            .map_err(|source| CoreError::Migration {
                version: *version,
                source,
            })?;
        tx.pragma_update(None, "user_version", version)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_are_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.last().map_or(0, |(v, _)| *v));
        assert!(
            MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0),
            "migrations are in order"
        );
    }

    #[test]
    fn a_newer_schema_is_refused_not_clobbered() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            run(&mut conn),
            Err(CoreError::SchemaTooNew { found: 99, .. })
        ));
    }
}
