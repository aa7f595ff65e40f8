//! The audit log as CSV or JSON, for `otactl audit export` and the window's Export button. Oldest entry
//! first, times in UTC (RFC 3339) beside the Unix milliseconds.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, CoreError};
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

/// The name a save dialog proposes: "ota-console-audit-2026-11-29.csv", dated in the user's time zone.
pub fn suggested_file_name(format: AuditFormat) -> String {
    format!(
        "ota-console-audit-{}.{}",
        chrono::Local::now().format("%Y-%m-%d"),
        format.extension()
    )
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One CSV cell: quoted when needed, and a leading `=`, `+`, `-`, `@` defused so a spreadsheet never runs
/// a target name as a formula.
pub(crate) fn cell(value: &str) -> String {
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

/// Writes an export to `target`, a path the user chose in a save dialog: into a new file private to the
/// user (created, never opened if it exists) in the same folder, renamed over the target once complete.
/// A link at the target is refused, as is anything but a regular file: the export never writes through a
/// link, and a failure leaves an existing file whole. Were the target swapped for a link after the check,
/// the rename would replace the link itself, not the file it points to.
pub fn write_export(target: &Path, text: &str) -> Result<(), ApiError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ApiError::validation("Choose a file name for the export."))?;
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let io_error = |path: &Path, source| -> ApiError {
        CoreError::Io {
            path: path.display().to_string(),
            source,
        }
        .into()
    };
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(ApiError::validation(format!(
                "{name} is a link; the export is not written through links."
            ))
            .with_hint("Choose another file name."))
        }
        Ok(meta) if !meta.is_file() => {
            return Err(ApiError::validation(format!(
                "{name} is not a regular file; the export replaces only files."
            ))
            .with_hint("Choose another file name."))
        }
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_error(target, err)),
    }
    // tempfile creates with O_EXCL and mode 0600 on Unix.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(|e| io_error(folder, e))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| io_error(temp.path(), e))?;
    temp.persist(target)
        .map_err(|e| io_error(target, e.error))?;
    Ok(())
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
    fn the_suggested_name_is_dated_and_typed() {
        let name = suggested_file_name(AuditFormat::Json);
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        assert_eq!(name, format!("ota-console-audit-{today}.json"));
        assert!(suggested_file_name(AuditFormat::Csv).ends_with(".csv"));
    }

    #[test]
    fn json_has_readable_times() {
        let json: serde_json::Value = serde_json::from_str(&to_json(&[entry(1, "a")])).unwrap();
        assert_eq!(json[0]["time"], "2026-11-30T00:00:00.001Z");
        assert_eq!(json[0]["action"], "firmware.add");
        assert_eq!(json[0]["cloud"], "quectel");
    }

    #[test]
    fn an_export_replaces_a_file_whole_and_privately() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("audit.csv");
        std::fs::write(&target, "old").unwrap();
        write_export(&target, "id,time\r\n").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "id,time\r\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("audit.csv")],
            "no temp file left"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_export_to_a_link_is_refused_and_what_it_points_to_is_untouched() {
        let outside = tempfile::tempdir().unwrap();
        let precious = outside.path().join("authorized_keys");
        std::fs::write(&precious, "ssh-ed25519 AAAA me").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("audit.csv");
        std::os::unix::fs::symlink(&precious, &link).unwrap();
        let err = write_export(&link, "owned").unwrap_err();
        assert_eq!(err.code, crate::error::ErrorKind::Validation);
        assert!(err.message.contains("is a link"), "{}", err.message);
        assert_eq!(
            std::fs::read_to_string(&precious).unwrap(),
            "ssh-ed25519 AAAA me"
        );
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        // A dangling link is refused the same way (it would create its target).
        let dangling = dir.path().join("new.json");
        std::os::unix::fs::symlink(outside.path().join("created"), &dangling).unwrap();
        assert!(write_export(&dangling, "x").is_err());
        assert!(!outside.path().join("created").exists());
    }

    #[test]
    fn an_export_over_a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("exports");
        std::fs::create_dir(&folder).unwrap();
        let err = write_export(&folder, "x").unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
        assert!(folder.is_dir());
    }
}
