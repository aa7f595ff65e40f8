use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
use crate::db::{params, Row, Sql, SqlExt};
use crate::error::CoreResult;
use crate::model::{now_ms, Cloud};

/// What to record about an action that changed something in a cloud, the library or the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub cloud: Option<Cloud>,
    pub target: Option<&'a str>,
    pub result: &'a str,
    pub detail: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub cloud: Option<Cloud>,
    pub target: Option<String>,
    pub result: String,
    pub detail: Option<String>,
}

impl Store {
    pub fn audit(&self, record: &AuditRecord<'_>) -> CoreResult<()> {
        self.write(|tx| insert_audit(tx, std::slice::from_ref(record)))
    }

    /// Newest first.
    pub fn audit_entries(&self, limit: u32) -> CoreResult<Vec<AuditEntry>> {
        self.audit_query(&AuditQuery {
            limit: limit.max(1),
            ..AuditQuery::default()
        })
    }
}

/// Which audit entries to show or export. Empty fields do not filter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditQuery {
    /// Actions starting with this (e.g. "campaign." or "firmware.add").
    #[ts(optional)]
    pub action: Option<String>,
    #[ts(optional)]
    pub cloud: Option<Cloud>,
    /// "ok" or "error".
    #[ts(optional)]
    pub result: Option<String>,
    /// Substring of the target, actor or detail.
    #[ts(optional)]
    pub text: Option<String>,
    /// From this time (Unix ms), inclusive.
    #[ts(optional, type = "number")]
    pub since: Option<i64>,
    /// Until this time (Unix ms), exclusive.
    #[ts(optional, type = "number")]
    pub until: Option<i64>,
    /// 0 = every matching entry.
    pub limit: u32,
}

/// Appends records inside the caller's transaction (so a change and its record land together).
pub(crate) fn insert_audit(tx: &dyn Sql, records: &[AuditRecord<'_>]) -> CoreResult<()> {
    let at = now_ms();
    for record in records {
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, cloud, target, result, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                at,
                record.actor,
                record.action,
                record.cloud.map(Cloud::as_str),
                record.target,
                record.result,
                record.detail
            ],
        )?;
    }
    Ok(())
}

/// An `audit_log` row read as `SELECT id, at, actor, action, cloud, target, result, detail`.
fn entry_from_row(row: &Row) -> CoreResult<AuditEntry> {
    let cloud: Option<String> = row.get(4)?;
    Ok(AuditEntry {
        id: row.get(0)?,
        at: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        cloud: cloud.as_deref().and_then(Cloud::parse),
        target: row.get(5)?,
        result: row.get(6)?,
        detail: row.get(7)?,
    })
}

impl Store {
    /// Up to `limit` entries after `after_id`, oldest first: what a webhook's dispatcher reads.
    pub(crate) fn audit_after(&self, after_id: i64, limit: u32) -> CoreResult<Vec<AuditEntry>> {
        self.read(|conn| {
            conn.query_map(
                "SELECT id, at, actor, action, cloud, target, result, detail FROM audit_log
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
                params![after_id, i64::from(limit.max(1))],
                entry_from_row,
            )
        })
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Store {
    /// Matching entries, newest first.
    pub fn audit_query(&self, query: &AuditQuery) -> CoreResult<Vec<AuditEntry>> {
        let action = query
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| format!("{}%", escape_like(a)));
        let text = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| format!("%{}%", escape_like(t)));
        let limit = if query.limit == 0 {
            i64::MAX
        } else {
            i64::from(query.limit)
        };
        self.read(|conn| {
            // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
            conn.query_map(
                "SELECT id, at, actor, action, cloud, target, result, detail FROM audit_log
                 WHERE (CAST(?1 AS TEXT) IS NULL OR lower(action) LIKE lower(?1) ESCAPE '\\')
                   AND (CAST(?2 AS TEXT) IS NULL OR cloud = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR result = ?3)
                   AND (CAST(?4 AS TEXT) IS NULL OR lower(target) LIKE lower(?4) ESCAPE '\\'
                        OR lower(actor) LIKE lower(?4) ESCAPE '\\' OR lower(detail) LIKE lower(?4) ESCAPE '\\')
                   AND (CAST(?5 AS BIGINT) IS NULL OR at >= ?5)
                   AND (CAST(?6 AS BIGINT) IS NULL OR at < ?6)
                 ORDER BY id DESC LIMIT ?7",
                params![
                    action,
                    query.cloud.map(Cloud::as_str),
                    query.result.as_deref().filter(|r| !r.is_empty()),
                    text,
                    query.since,
                    query.until,
                    limit
                ],
                entry_from_row,
            )
        })
    }
}
