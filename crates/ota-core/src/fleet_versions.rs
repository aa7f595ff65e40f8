//! Fleet versions (issue 17): which firmware the cached fleet runs per cloud and model, the newest of
//! them and how many devices are behind it; how updates to each version went (single-device jobs and
//! campaign devices); failures per day and reason over the last 30 days. CSV export for a spreadsheet.
//!
//! Every figure is a GROUP BY: the device counts are read off `devices_by_cloud_model_firmware`, the
//! campaign figures per campaign off `campaign_devices_by_state`, so they stay fast at 100 000 devices.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::{params, SqlExt};
use crate::error::{ApiError, CoreResult};
use crate::model::{now_ms, Cloud};
use crate::store::Store;
use crate::Console;

/// How many devices run one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VersionCount {
    /// As the cloud reports it ("" when it reports none).
    pub version: String,
    pub devices: u32,
}

/// The versions one model of one cloud runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelVersions {
    pub cloud: Cloud,
    pub model: String,
    /// The newest version any of its devices runs (numeric parts compared as numbers).
    pub newest: String,
    pub total: u32,
    /// Devices on an older version than `newest` (a device reporting no version is not counted).
    pub behind: u32,
    pub versions: Vec<VersionCount>,
}

/// How updates to one version went: single-device jobs and campaign devices together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VersionSuccess {
    pub cloud: Cloud,
    pub version: String,
    /// Updates begun: one per job, and each start of a campaign device (retries included).
    pub attempts: u32,
    pub succeeded: u32,
    pub failed: u32,
}

/// Updates that failed on one day (UTC) for one reason (the failure's kind: `offline`, `device`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FailureDay {
    /// YYYY-MM-DD, UTC.
    pub day: String,
    pub reason: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetVersions {
    /// By cloud, then model.
    pub models: Vec<ModelVersions>,
    /// By cloud, then version (newest first).
    pub success_by_version: Vec<VersionSuccess>,
    /// The last 30 days, oldest first; only days with failures.
    pub failures_by_day: Vec<FailureDay>,
}

/// The numeric parts of a version: "V1.2.10-rc3" → ["1", "2", "10", "3"], leading zeros dropped.
fn numeric_parts(version: &str) -> Vec<&str> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let trimmed = p.trim_start_matches('0');
            if trimmed.is_empty() {
                "0"
            } else {
                trimmed
            }
        })
        .collect()
}

/// Compares two versions by their numeric parts, as numbers of any length ("1.10" > "1.9"; a version
/// with more parts is newer when the shared ones are equal: "1.0.1" > "1.0"). Versions that are equal by
/// number compare [`Ordering::Equal`].
pub fn compare_numeric(a: &str, b: &str) -> Ordering {
    let (a, b) = (numeric_parts(a), numeric_parts(b));
    for (x, y) in a.iter().zip(&b) {
        let order = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// A total order of versions: [`compare_numeric`], then the text itself, so sorting is stable.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    compare_numeric(a, b).then_with(|| a.cmp(b))
}

const DAY_MS: i64 = 24 * 3_600_000;

/// The fleet's versions, update outcomes per version and the last 30 days' failures, from the store.
pub fn fleet_versions(console: &Console) -> Result<FleetVersions, ApiError> {
    Ok(read(console.store(), now_ms())?)
}

fn read(store: &Store, now: i64) -> CoreResult<FleetVersions> {
    let since = now - 30 * DAY_MS;
    store.read(|conn| {
        // Devices per (cloud, model, version), read off the covering index in its order.
        let mut counts: BTreeMap<(String, String), Vec<VersionCount>> = BTreeMap::new();
        let rows = conn.query_map(
            "SELECT cloud, model, firmware, COUNT(*) FROM devices
             GROUP BY cloud, model, firmware",
            params![],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<u32>(3)?,
                ))
            },
        )?;
        for (cloud, model, version, devices) in rows {
            counts
                .entry((cloud, model))
                .or_default()
                .push(VersionCount { version, devices });
        }
        let models = counts
            .into_iter()
            .filter_map(|((cloud, model), versions)| {
                Some(model_versions(Cloud::parse(&cloud)?, model, versions))
            })
            .collect();

        // Outcomes per (cloud, version): jobs, then campaign devices (by their campaign's firmware). The
        // CROSS JOINs keep campaigns the outer loop, and each campaign's rows are read off its state index
        // (without ANALYZE statistics SQLite would take the primary key and read every row).
        let mut outcomes: BTreeMap<(String, String), (u32, u32, u32)> = BTreeMap::new();
        let mut add = |cloud: String, version: String, state: String, n: u32, attempts: u32| {
            let entry = outcomes.entry((cloud, version)).or_default();
            entry.0 += attempts;
            match state.as_str() {
                "succeeded" => entry.1 += n,
                "failed" => entry.2 += n,
                _ => {}
            }
        };
        let rows = conn.query_map(
            "SELECT cloud, to_version, state, COUNT(*) FROM ota_jobs
             WHERE to_version IS NOT NULL AND to_version != ''
             GROUP BY cloud, to_version, state",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<u32>(3)?)),
        )?;
        for (cloud, version, state, n) in rows {
            add(cloud, version, state, n, n);
        }
        let rows = conn.query_map(
            "SELECT f.cloud, f.version, d.state, COUNT(*), COALESCE(SUM(d.attempts), 0)
             FROM campaigns c
             JOIN firmware f ON f.id = c.firmware_id
             CROSS JOIN campaign_devices d INDEXED BY campaign_devices_by_state
             WHERE d.campaign_id = c.id
               AND d.state IN ('starting', 'running', 'succeeded', 'failed', 'pending')
               AND d.attempts > 0
             GROUP BY f.cloud, f.version, d.state",
            params![],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<u32>(3)?,
                    r.get::<u32>(4)?,
                ))
            },
        )?;
        for (cloud, version, state, n, attempts) in rows {
            add(cloud, version, state, n, attempts);
        }
        let mut success_by_version: Vec<VersionSuccess> = outcomes
            .into_iter()
            .filter_map(|((cloud, version), (attempts, succeeded, failed))| {
                Some(VersionSuccess {
                    cloud: Cloud::parse(&cloud)?,
                    version,
                    attempts,
                    succeeded,
                    failed,
                })
            })
            .collect();
        success_by_version.sort_by(|a, b| {
            a.cloud
                .as_str()
                .cmp(b.cloud.as_str())
                .then_with(|| compare_versions(&b.version, &a.version))
        });

        // Failures per (day, reason): jobs and campaign devices whose last attempt failed. Grouped by the
        // day's number since the epoch (UTC), which both engines count alike; its date is written here.
        let mut failures: BTreeMap<(i64, String), u32> = BTreeMap::new();
        for sql in [
            "SELECT finished_at / 86400000, COALESCE(NULLIF(error_code, ''), 'unknown'), COUNT(*)
             FROM ota_jobs WHERE state = 'failed' AND finished_at >= ?1
             GROUP BY 1, 2",
            "SELECT d.finished_at / 86400000, COALESCE(NULLIF(d.error_code, ''), 'unknown'), COUNT(*)
             FROM campaigns c
             CROSS JOIN campaign_devices d INDEXED BY campaign_devices_by_state
             WHERE d.campaign_id = c.id AND d.state = 'failed' AND d.finished_at >= ?1
             GROUP BY 1, 2",
        ] {
            let rows = conn.query_map(sql, params![since], |r| {
                Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<u32>(2)?))
            })?;
            for (day, reason, n) in rows {
                *failures.entry((day, reason)).or_default() += n;
            }
        }
        let failures_by_day = failures
            .into_iter()
            .map(|((day, reason), count)| FailureDay {
                day: day_name(day),
                reason,
                count,
            })
            .collect();
        Ok(FleetVersions {
            models,
            success_by_version,
            failures_by_day,
        })
    })
}

/// Day `day` since the Unix epoch (UTC) as YYYY-MM-DD.
fn day_name(day: i64) -> String {
    chrono::DateTime::from_timestamp(day.saturating_mul(DAY_MS / 1000), 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn model_versions(cloud: Cloud, model: String, mut versions: Vec<VersionCount>) -> ModelVersions {
    versions.sort_by(|a, b| compare_versions(&b.version, &a.version));
    let newest = versions
        .iter()
        .find(|v| !v.version.is_empty())
        .map(|v| v.version.clone())
        .unwrap_or_default();
    let total = versions.iter().map(|v| v.devices).sum();
    let behind = versions
        .iter()
        .filter(|v| !v.version.is_empty() && compare_numeric(&v.version, &newest).is_lt())
        .map(|v| v.devices)
        .sum();
    ModelVersions {
        cloud,
        model,
        newest,
        total,
        behind,
        versions,
    }
}

/// One row per (cloud, model, version): `cloud,model,version,devices,newest,behind`, cells quoted as
/// the audit export quotes them.
pub fn to_csv(fleet: &FleetVersions) -> String {
    let cell = crate::audit_export::cell;
    let mut out = String::from("cloud,model,version,devices,newest,behind\r\n");
    for m in &fleet.models {
        for v in &m.versions {
            let row = [
                cell(m.cloud.as_str()),
                cell(&m.model),
                cell(&v.version),
                v.devices.to_string(),
                cell(&m.newest),
                m.behind.to_string(),
            ];
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// The name a save dialog proposes: "ota-console-fleet-versions-2026-12-04.csv" (the user's date).
pub fn suggested_file_name() -> String {
    format!(
        "ota-console-fleet-versions-{}.csv",
        chrono::Local::now().format("%Y-%m-%d")
    )
}

/// Writes the CSV to `path` the way the audit export writes (a private temp file renamed into place,
/// never through a link); answers how many rows it wrote.
pub fn export(console: &Console, path: &Path) -> Result<usize, ApiError> {
    let fleet = fleet_versions(console)?;
    let rows = fleet.models.iter().map(|m| m.versions.len()).sum();
    crate::audit_export::write_export(path, &to_csv(&fleet))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_their_numbers() {
        use Ordering::*;
        assert_eq!(compare_versions("1.10.0", "1.9.9"), Greater);
        assert_eq!(compare_versions("V2.0", "v1.99"), Greater);
        assert_eq!(compare_versions("1.0.1", "1.0"), Greater);
        assert_eq!(compare_versions("2.4.1", "2.4.1"), Equal);
        assert_eq!(compare_numeric("1.02", "1.2"), Equal);
        assert_eq!(compare_numeric("fw-7_b12", "fw-7_b3"), Greater);
        assert_eq!(compare_versions("", "0.1"), Less);
        // Numbers longer than any integer type still compare.
        assert_eq!(
            compare_versions("1.123456789012345678901234567890", "1.99"),
            Greater
        );
        let mut v = vec!["1.10", "1.2", "1.9.1", "0.9", "1.9"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, vec!["0.9", "1.2", "1.9", "1.9.1", "1.10"]);
    }

    #[test]
    fn a_model_knows_its_newest_version_and_who_is_behind() {
        let m = model_versions(
            Cloud::Vicohome,
            "CG6".into(),
            vec![
                VersionCount {
                    version: "2.4.0".into(),
                    devices: 3,
                },
                VersionCount {
                    version: "2.10.0".into(),
                    devices: 2,
                },
                VersionCount {
                    version: "".into(),
                    devices: 1,
                },
            ],
        );
        assert_eq!(m.newest, "2.10.0");
        assert_eq!(m.total, 6);
        assert_eq!(m.behind, 3);
        assert_eq!(m.versions[0].version, "2.10.0");
    }

    #[test]
    fn the_csv_quotes_and_defuses_its_cells() {
        let fleet = FleetVersions {
            models: vec![ModelVersions {
                cloud: Cloud::Quectel,
                model: "EC200, \"rev B\"".into(),
                newest: "=1.2".into(),
                total: 4,
                behind: 1,
                versions: vec![
                    VersionCount {
                        version: "=1.2".into(),
                        devices: 3,
                    },
                    VersionCount {
                        version: "1.1\nbeta".into(),
                        devices: 1,
                    },
                ],
            }],
            success_by_version: vec![],
            failures_by_day: vec![],
        };
        assert_eq!(
            to_csv(&fleet),
            "cloud,model,version,devices,newest,behind\r\n\
             quectel,\"EC200, \"\"rev B\"\"\",'=1.2,3,'=1.2,1\r\n\
             quectel,\"EC200, \"\"rev B\"\"\",\"1.1\nbeta\",1,'=1.2,1\r\n"
        );
    }

    /// The query plans SQLite chooses: the device counts off the covering index with no sort, the campaign
    /// figures per campaign off its state index (fast at 100 000 devices: bench notes in the README).
    #[test]
    fn the_counts_are_read_off_indexes() {
        let (_dir, store) = crate::store::test_sqlite_store();
        let plan = |sql: &str| -> String {
            store
                .read(|conn| {
                    let rows =
                        conn.query_map(&format!("EXPLAIN QUERY PLAN {sql}"), params![], |r| {
                            r.get::<String>(3)
                        })?;
                    Ok(rows.join("; "))
                })
                .unwrap()
        };
        let devices = plan(
            "SELECT cloud, model, firmware, COUNT(*) FROM devices GROUP BY cloud, model, firmware",
        );
        assert!(
            devices.contains("COVERING INDEX devices_by_cloud_model_firmware")
                && !devices.contains("TEMP B-TREE"),
            "{devices}"
        );
        let failed = plan(
            "SELECT COUNT(*) FROM campaigns c CROSS JOIN campaign_devices d INDEXED BY campaign_devices_by_state
             WHERE d.campaign_id = c.id AND d.state = 'failed' AND d.finished_at >= 0",
        );
        assert!(
            failed.contains("SEARCH d USING INDEX campaign_devices_by_state"),
            "{failed}"
        );
        let outcomes = plan(
            "SELECT f.cloud, f.version, d.state, COUNT(*) FROM campaigns c
             JOIN firmware f ON f.id = c.firmware_id CROSS JOIN campaign_devices d INDEXED BY campaign_devices_by_state
             WHERE d.campaign_id = c.id AND d.state IN ('running', 'succeeded') AND d.attempts > 0
             GROUP BY f.cloud, f.version, d.state",
        );
        assert!(
            outcomes.contains("SEARCH d USING INDEX campaign_devices_by_state"),
            "{outcomes}"
        );
    }

    #[test]
    fn counts_come_from_the_cache_jobs_and_campaigns() {
        let (_dir, store) = crate::store::test_store();
        let now = 1_800_000_000_000i64;
        store
            .write(|tx| {
                tx.execute_batch(
                    "INSERT INTO accounts (id, name, cloud, base_url, created_at)
                     VALUES (1, 'a', 'vicohome', 'https://x', 0);",
                )?;
                for (i, fw) in ["1.9", "1.10", "1.10", "1.2"].iter().enumerate() {
                    tx.execute(
                        "INSERT INTO devices (account_id, device_id, cloud, model, firmware, refreshed_at)
                         VALUES (1, ?1, 'vicohome', 'CG6', ?2, 0)",
                        params![format!("d{i}"), fw],
                    )?;
                }
                tx.execute(
                    "INSERT INTO ota_jobs (account_id, cloud, device_id, state, phase, to_version,
                         error_code, started_at, updated_at, finished_at)
                     VALUES (1, 'vicohome', 'd0', 'failed', 'failed', '1.10', 'offline', ?1, ?1, ?1),
                            (1, 'vicohome', 'd1', 'succeeded', 'done', '1.10', NULL, ?1, ?1, ?1),
                            (1, 'vicohome', 'd3', 'failed', 'failed', '1.10', 'device', ?2, ?2, ?2)",
                    params![now - DAY_MS, now - 40 * DAY_MS],
                )?;
                tx.execute_batch(
                    "INSERT INTO firmware (id, sha256, md5, size, file_name, version, cloud, added_by, added_at)
                     VALUES (1, 's', 'm', 1, 'f.bin', '1.10', 'vicohome', 'ana', 0);
                     INSERT INTO campaigns (id, name, firmware_id, state, settings, wave_count, created_by,
                         created_at, updated_at)
                     VALUES (1, 'c', 1, 'running', '{}', 1, 'ana', 0, 0);",
                )?;
                tx.execute(
                    "INSERT INTO campaign_devices (campaign_id, account_id, device_id, cloud, wave, state,
                         attempts, error_code, finished_at)
                     VALUES (1, 1, 'd0', 'vicohome', 0, 'succeeded', 2, NULL, ?1),
                            (1, 1, 'd2', 'vicohome', 0, 'failed', 1, 'device', ?1),
                            (1, 1, 'd3', 'vicohome', NULL, 'skipped', 0, NULL, NULL)",
                    params![now - DAY_MS],
                )?;
                Ok(())
            })
            .unwrap();
        let fleet = read(&store, now).unwrap();
        assert_eq!(fleet.models.len(), 1);
        let m = &fleet.models[0];
        assert_eq!((m.newest.as_str(), m.total, m.behind), ("1.10", 4, 2));
        // Jobs: 3 begun, 1 succeeded, 2 failed; campaign devices: 3 attempts, 1 succeeded, 1 failed.
        assert_eq!(
            fleet.success_by_version,
            vec![VersionSuccess {
                cloud: Cloud::Vicohome,
                version: "1.10".into(),
                attempts: 6,
                succeeded: 2,
                failed: 3,
            }]
        );
        // The job failure 40 days ago is outside the last 30 days.
        let day = chrono::DateTime::from_timestamp_millis(now - DAY_MS)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string();
        assert_eq!(
            fleet.failures_by_day,
            vec![
                FailureDay {
                    day: day.clone(),
                    reason: "device".into(),
                    count: 1
                },
                FailureDay {
                    day,
                    reason: "offline".into(),
                    count: 1
                },
            ]
        );
    }
}
