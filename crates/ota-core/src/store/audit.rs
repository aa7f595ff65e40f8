use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
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
        self.write(|tx| {
            tx.execute(
                "INSERT INTO audit_log (at, actor, action, cloud, target, result, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    now_ms(),
                    record.actor,
                    record.action,
                    record.cloud.map(Cloud::as_str),
                    record.target,
                    record.result,
                    record.detail
                ],
            )?;
            Ok(())
        })
    }

    /// Newest first.
    pub fn audit_entries(&self, limit: u32) -> CoreResult<Vec<AuditEntry>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, at, actor, action, cloud, target, result, detail
                 FROM audit_log ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |row| {
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
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
