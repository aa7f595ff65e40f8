//! Versioned schema migrations, embedded in the binary and applied all-or-nothing at start.

use rusqlite::Connection;

use crate::db::{params, Sql, SqlExt, Value};
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

/// The team database's migrations (PostgreSQL), versioned on their own: they start from the schema the
/// SQLite migrations above add up to. `schema_version` records how many have been applied.
const POSTGRES_MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_team.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_webhooks.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_change_notices.sql"),
    ),
];

/// Any fixed number: the key of the advisory lock that serialises migrations across processes.
const MIGRATION_LOCK: i64 = 0x07a_c0de;

/// Brings the team database up to date inside the caller's transaction: every runner that starts at
/// once waits on one advisory lock, and only the first applies what is missing.
pub fn run_postgres(tx: &dyn Sql) -> CoreResult<()> {
    tx.query_value::<Value>(
        "SELECT pg_advisory_xact_lock(?1)::text",
        params![MIGRATION_LOCK],
    )?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let current: u32 = tx
        .query_opt("SELECT version FROM schema_version", params![], |r| {
            r.get(0)
        })?
        .unwrap_or(0);
    let known = POSTGRES_MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > known {
        return Err(CoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (version, sql) in POSTGRES_MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(sql)
            .map_err(|err| CoreError::TeamDatabase {
                message: format!("migration {version} failed: {err}"),
                unreachable: err.is_unreachable_database(),
            })?;
    }
    if current < known {
        tx.execute("DELETE FROM schema_version", params![])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            params![known],
        )?;
    }
    Ok(())
}

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
    fn every_postgres_migration_file_is_applied_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        let files = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
            })
            .count();
        assert_eq!(
            files,
            POSTGRES_MIGRATIONS.len(),
            "a file in {dir:?} is not listed"
        );
        assert!(POSTGRES_MIGRATIONS
            .iter()
            .enumerate()
            .all(|(i, (v, _))| *v as usize == i + 1));
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
