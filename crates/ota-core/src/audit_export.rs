//! The audit log as CSV or JSON, for `otactl audit export` and the window's Export button. Oldest entry
//! first, times in UTC (RFC 3339) beside the Unix milliseconds.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ApiError;
use crate::store::{AuditEntry, AuditQuery};
use crate::Console;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    #[default]
    Csv,
    Json,
}

impl AuditFormat {
    pub fn extension(self) -> &'static str {
        match self {
            AuditFormat::Csv => "csv",
            AuditFormat::Json => "json",
        }
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One CSV cell: quoted when needed, and a leading `=`, `+`, `-`, `@` defused so a spreadsheet never runs
/// a target name as a formula.
fn cell(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("id,time,unix_ms,actor,action,cloud,target,result,detail\r\n");
    for e in entries.iter().rev() {
        let row = [
            e.id.to_string(),
            rfc3339(e.at),
            e.at.to_string(),
            e.actor.clone(),
            e.action.clone(),
            e.cloud.map(|c| c.as_str().to_string()).unwrap_or_default(),
            e.target.clone().unwrap_or_default(),
            e.result.clone(),
            e.detail.clone().unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|v| cell(v)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    #[serde(flatten)]
    entry: &'a AuditEntry,
    time: String,
}

pub fn to_json(entries: &[AuditEntry]) -> String {
    let rows: Vec<JsonEntry<'_>> = entries
        .iter()
        .rev()
        .map(|entry| JsonEntry {
            entry,
            time: rfc3339(entry.at),
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into())
}

/// The matching entries rendered in `format`, and how many there are.
pub fn export(
    console: &Console,
    query: &AuditQuery,
    format: AuditFormat,
) -> Result<(String, usize), ApiError> {
    let entries = console.store().audit_query(query)?;
    let text = match format {
        AuditFormat::Csv => to_csv(&entries),
        AuditFormat::Json => to_json(&entries),
    };
    Ok((text, entries.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cloud;

    fn entry(id: i64, target: &str) -> AuditEntry {
        AuditEntry {
            id,
            at: 1_795_996_800_000 + id,
            actor: "ana".into(),
            action: "firmware.add".into(),
            cloud: Some(Cloud::Quectel),
            target: Some(target.into()),
            result: "ok".into(),
            detail: None,
        }
    }

    #[test]
    fn csv_is_quoted_defused_and_oldest_first() {
        let csv = to_csv(&[entry(2, "=HYPERLINK(\"x\")"), entry(1, "fw, \"beta\"\nv2")]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "id,time,unix_ms,actor,action,cloud,target,result,detail"
        );
        assert!(
            lines[1].starts_with("1,2026-11-30T00:00:00.001Z,"),
            "{}",
            lines[1]
        );
        assert!(csv.contains("\"fw, \"\"beta\"\"\nv2\""));
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""));
    }

    #[test]
    fn json_has_readable_times() {
        let json: serde_json::Value = serde_json::from_str(&to_json(&[entry(1, "a")])).unwrap();
        assert_eq!(json[0]["time"], "2026-11-30T00:00:00.001Z");
        assert_eq!(json[0]["action"], "firmware.add");
        assert_eq!(json[0]["cloud"], "quectel");
    }
}
