use std::collections::{HashMap, HashSet};

use rusqlite::{params, params_from_iter, OptionalExtension, Row};

use super::Store;
use crate::error::{ApiError, CoreResult, ErrorKind};
use crate::model::{
    now_ms, AccountFreshness, Cloud, Device, DevicePage, DeviceQuery, DeviceSort, FleetFreshness,
    StatusFilter,
};

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;

const COLUMNS: &str =
    "d.account_id, d.cloud, d.device_id, d.product_key, d.name, d.model, d.manufacturer, \
     d.transport, d.firmware, d.newest_firmware, d.online, d.battery, d.signal, d.refreshed_at";

fn device_from_row(row: &Row<'_>) -> rusqlite::Result<Device> {
    let cloud: String = row.get(1)?;
    Ok(Device {
        account_id: row.get(0)?,
        cloud: Cloud::parse(&cloud).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, cloud.into())
        })?,
        id: row.get(2)?,
        product_key: row.get(3)?,
        name: row.get(4)?,
        model: row.get(5)?,
        manufacturer: row.get(6)?,
        transport: row.get(7)?,
        firmware: row.get(8)?,
        newest_firmware: row.get(9)?,
        online: row.get(10)?,
        battery: row.get(11)?,
        signal: row.get(12)?,
        refreshed_at: row.get(13)?,
    })
}

/// Escapes a user's search text as one FTS5 string literal, so operators in it are taken literally.
fn fts_phrase(search: &str) -> String {
    format!("\"{}\"", search.replace('"', "\"\""))
}

fn like_pattern(search: &str) -> String {
    let escaped = search
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// From this many devices (and a quarter of the cache), a refresh rebuilds the search index in bulk.
const BULK_IMPORT_MIN: usize = 2_000;

impl Store {
    /// Replaces the cached fleet of one account with what its cloud just listed, in one transaction:
    /// rows are updated in place, new devices added, devices the cloud no longer lists removed.
    pub fn replace_fleet(&self, account_id: i64, devices: &[Device]) -> CoreResult<()> {
        let now = now_ms();
        self.write(|tx| {
            // A large import skips the row-by-row trigram upkeep and rebuilds the index at the end of the
            // same transaction (one tenth of the time); a small refresh keeps it row by row, because a
            // rebuild costs in proportion to the whole table.
            let total: i64 = tx.query_row("SELECT n FROM device_total WHERE id = 1", [], |r| r.get(0))?;
            let bulk = devices.len() >= BULK_IMPORT_MIN && devices.len() as i64 * 4 >= total;
            if bulk {
                tx.execute("UPDATE search_maintenance SET bulk = 1 WHERE id = 1", [])?;
            }
            {
                let mut upsert = tx.prepare_cached(
                    "INSERT INTO devices (account_id, device_id, cloud, product_key, name, model, manufacturer,
                        transport, firmware, newest_firmware, online, battery, signal, refreshed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                     ON CONFLICT(account_id, device_id) DO UPDATE SET
                        cloud = excluded.cloud, product_key = excluded.product_key, name = excluded.name,
                        model = excluded.model, manufacturer = excluded.manufacturer,
                        transport = excluded.transport, firmware = excluded.firmware,
                        newest_firmware = excluded.newest_firmware, online = excluded.online,
                        battery = excluded.battery, signal = excluded.signal,
                        refreshed_at = excluded.refreshed_at",
                )?;
                for d in devices {
                    upsert.execute(params![
                        account_id,
                        d.id,
                        d.cloud.as_str(),
                        d.product_key,
                        d.name,
                        d.model,
                        d.manufacturer,
                        d.transport,
                        d.firmware,
                        d.newest_firmware,
                        d.online,
                        d.battery,
                        d.signal,
                        now
                    ])?;
                }
            }
            tx.execute(
                "DELETE FROM devices WHERE account_id = ?1 AND refreshed_at < ?2",
                params![account_id, now],
            )?;
            if bulk {
                tx.execute(
                    "INSERT INTO devices_search(devices_search) VALUES ('rebuild')",
                    [],
                )?;
                tx.execute("UPDATE search_maintenance SET bulk = 0 WHERE id = 1", [])?;
            }
            tx.execute(
                "INSERT INTO fleet_refresh (account_id, refreshed_at, attempted_at, error_kind, error_message)
                 VALUES (?1, ?2, ?2, NULL, NULL)
                 ON CONFLICT(account_id) DO UPDATE SET refreshed_at = ?2, attempted_at = ?2,
                    error_kind = NULL, error_message = NULL",
                params![account_id, now],
            )?;
            Ok(())
        })
    }

    /// Notes that fetching an account's fleet failed; its cached devices stay as they were.
    pub fn record_fleet_failure(&self, account_id: i64, error: &ApiError) -> CoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO fleet_refresh (account_id, refreshed_at, attempted_at, error_kind, error_message)
                 VALUES (?1, NULL, ?2, ?3, ?4)
                 ON CONFLICT(account_id) DO UPDATE SET attempted_at = ?2, error_kind = ?3, error_message = ?4",
                params![account_id, now_ms(), error.code.as_str(), error.message],
            )?;
            Ok(())
        })
    }

    pub fn device(&self, account_id: i64, device_id: &str) -> CoreResult<Option<Device>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM devices d WHERE d.account_id = ?1 AND d.device_id = ?2"
                    ),
                    params![account_id, device_id],
                    device_from_row,
                )
                .optional()?)
        })
    }

    /// Finds a device by the id its cloud uses, across accounts of that cloud.
    pub fn find_device(&self, cloud: Cloud, device_id: &str) -> CoreResult<Vec<Device>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM devices d WHERE d.cloud = ?1 AND d.device_id = ?2"
            ))?;
            let rows = stmt.query_map(params![cloud.as_str(), device_id], device_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// How many devices the cache holds per account (accounts with none are absent).
    pub fn device_counts_by_account(&self) -> CoreResult<std::collections::HashMap<i64, u64>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare("SELECT account_id, COUNT(*) FROM devices GROUP BY account_id")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, u64>(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Every cached device with this id, whatever its cloud or account.
    pub fn find_device_any(&self, device_id: &str) -> CoreResult<Vec<Device>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM devices d WHERE d.device_id = ?1"
            ))?;
            let rows = stmt.query_map(params![device_id], device_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub fn query_devices(&self, query: &DeviceQuery) -> CoreResult<DevicePage> {
        let limit = match query.limit {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let search = query.search.trim();
        if search.chars().count() > 200 {
            return Err(
                ApiError::new(ErrorKind::Validation, "The search text is too long.").into(),
            );
        }
        let mut conditions: Vec<&str> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        // Three characters or more: the trigram index. Shorter: a scan is the only way, and cheap enough
        // because one or two characters match most rows anyway.
        if search.chars().count() >= 3 {
            conditions
                .push("d.id IN (SELECT rowid FROM devices_search WHERE devices_search MATCH ?)");
            args.push(fts_phrase(search).into());
        } else if !search.is_empty() {
            conditions.push(
                "(d.device_id LIKE ? ESCAPE '\\' OR d.name LIKE ? ESCAPE '\\' OR d.model LIKE ? ESCAPE '\\')",
            );
            let pattern = like_pattern(search);
            args.extend([
                pattern.clone().into(),
                pattern.clone().into(),
                pattern.into(),
            ]);
        }
        if let Some(cloud) = query.cloud {
            conditions.push("d.cloud = ?");
            args.push(cloud.as_str().to_string().into());
        }
        match query.status {
            StatusFilter::All => {}
            StatusFilter::Online => conditions.push("d.online = 1"),
            StatusFilter::Offline => conditions.push("d.online = 0"),
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let column = match query.sort {
            DeviceSort::Name => "d.name",
            DeviceSort::Id => "d.device_id",
            DeviceSort::Cloud => "d.cloud",
            DeviceSort::Model => "d.model",
            DeviceSort::Firmware => "d.firmware",
            DeviceSort::Battery => "d.battery",
            DeviceSort::Online => "d.online",
        };
        let direction = if query.descending { "DESC" } else { "ASC" };
        self.read(|conn| {
            let total: u32 = conn.query_row("SELECT n FROM device_total WHERE id = 1", [], |r| r.get(0))?;
            let matching: u32 = if where_clause.is_empty() {
                total
            } else {
                conn.query_row(
                    &format!("SELECT COUNT(*) FROM devices d {where_clause}"),
                    params_from_iter(args.iter()),
                    |r| r.get(0),
                )?
            };
            let mut page_args = args.clone();
            page_args.push(i64::from(limit).into());
            page_args.push(i64::from(query.offset).into());
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM devices d {where_clause}
                 ORDER BY {column} {direction}, d.device_id {direction}, d.account_id LIMIT ? OFFSET ?"
            ))?;
            let rows = stmt
                .query_map(params_from_iter(page_args.iter()), device_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(DevicePage {
                matching,
                total,
                offset: query.offset,
                rows,
            })
        })
    }

    /// Per account: when its fleet was last fetched and whether the last attempt failed.
    pub fn fleet_freshness(&self) -> CoreResult<FleetFreshness> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT a.id, a.name, a.cloud, f.refreshed_at, f.attempted_at, f.error_kind, f.error_message
                 FROM accounts a LEFT JOIN fleet_refresh f ON f.account_id = a.id
                 ORDER BY a.sandbox DESC, a.cloud, a.name",
            )?;
            let accounts = stmt
                .query_map([], |row| {
                    let cloud: String = row.get(2)?;
                    let error_kind: Option<String> = row.get(5)?;
                    let error_message: Option<String> = row.get(6)?;
                    Ok(AccountFreshness {
                        account_id: row.get(0)?,
                        account_name: row.get(1)?,
                        cloud: Cloud::parse(&cloud).unwrap_or(Cloud::Vicohome),
                        refreshed_at: row.get(3)?,
                        attempted_at: row.get(4)?,
                        error: error_kind.map(|kind| {
                            ApiError::new(
                                ErrorKind::parse(&kind).unwrap_or(ErrorKind::Internal),
                                error_message.unwrap_or_default(),
                            )
                        }),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let live = !accounts.is_empty()
                && accounts
                    .iter()
                    .all(|a| a.error.is_none() && a.refreshed_at.is_some());
            let oldest_refresh = accounts.iter().filter_map(|a| a.refreshed_at).min();
            Ok(FleetFreshness {
                live,
                oldest_refresh,
                accounts,
            })
        })
    }

    /// Product keys of an account's devices of `model` (every model when `None`).
    pub fn product_keys(&self, account_id: i64, model: Option<&str>) -> CoreResult<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT product_key FROM devices
                 WHERE account_id = ?1 AND product_key IS NOT NULL AND (?2 IS NULL OR model = ?2)
                 ORDER BY product_key",
            )?;
            let keys = stmt
                .query_map(params![account_id, model], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(keys)
        })
    }

    /// Every cached device matching a device-list filter (its paging ignored).
    pub fn matching_devices(&self, query: &DeviceQuery) -> CoreResult<Vec<Device>> {
        let mut all = Vec::new();
        let mut page_query = query.clone();
        page_query.limit = MAX_PAGE_SIZE;
        page_query.offset = 0;
        loop {
            let page = self.query_devices(&page_query)?;
            let n = page.rows.len() as u32;
            all.extend(page.rows);
            if n < page_query.limit {
                return Ok(all);
            }
            page_query.offset += n;
        }
    }

    /// Devices another update holds: an unfinished job, or an open row of an unfinished campaign.
    pub fn busy_devices(&self) -> CoreResult<HashSet<(i64, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT account_id, device_id FROM ota_jobs WHERE state IN ('starting', 'running')
                 UNION
                 SELECT d.account_id, d.device_id FROM campaign_devices d
                 JOIN campaigns c ON c.id = d.campaign_id
                 WHERE d.state IN ('starting', 'running')
                    OR (d.state = 'pending' AND c.state IN ('ready', 'running', 'paused'))",
            )?;
            let set = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<HashSet<(i64, String)>, _>>()?;
            Ok(set)
        })
    }
}

impl Store {
    /// Devices another campaign still has (pending in a campaign not finished, or updating), with the
    /// campaign's id (the lowest, when several have one).
    pub fn devices_in_active_campaigns(&self) -> CoreResult<HashMap<(i64, String), i64>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT d.account_id, d.device_id, MIN(c.id) FROM campaign_devices d
                 JOIN campaigns c ON c.id = d.campaign_id
                 WHERE d.state IN ('starting', 'running')
                    OR (d.state = 'pending' AND c.state IN ('ready', 'running', 'paused'))
                 GROUP BY d.account_id, d.device_id",
            )?;
            let map = stmt
                .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
                .collect::<Result<HashMap<(i64, String), i64>, _>>()?;
            Ok(map)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_store;

    pub(crate) fn device(account_id: i64, cloud: Cloud, id: &str, name: &str) -> Device {
        Device {
            account_id,
            cloud,
            id: id.into(),
            product_key: None,
            name: name.into(),
            model: "CG1".into(),
            manufacturer: None,
            transport: None,
            firmware: "1.0.0".into(),
            newest_firmware: Some("1.1.0".into()),
            online: true,
            battery: Some(80),
            signal: Some(-50),
            refreshed_at: 0,
        }
    }

    #[test]
    fn a_large_import_rebuilds_the_search_index_and_small_refreshes_keep_it() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let big: Vec<Device> = (0..BULK_IMPORT_MIN + 500)
            .map(|i| {
                device(
                    acc.id,
                    Cloud::Vicohome,
                    &format!("VC{i:06}Z"),
                    &format!("Cam {i}"),
                )
            })
            .collect();
        store.replace_fleet(acc.id, &big).unwrap();
        let q = |s: &str| DeviceQuery {
            search: s.into(),
            ..Default::default()
        };
        let page = store.query_devices(&q("001234z")).unwrap();
        assert_eq!((page.matching, page.rows[0].id.as_str()), (1, "VC001234Z"));
        assert_eq!(page.total as usize, big.len());
        // A small refresh (row by row) after the bulk one: renames and removals are searchable at once.
        let mut small = big[..10].to_vec();
        small[3].name = "Renamed gate".into();
        let other = store
            .upsert_sandbox_account(Cloud::Quectel, "Sandbox Q", "http://127.0.0.1:1", None)
            .unwrap();
        store
            .replace_fleet(other.id, &[device(other.id, Cloud::Quectel, "QK1", "Pump")])
            .unwrap();
        store.replace_fleet(acc.id, &big[..10]).unwrap();
        store.replace_fleet(acc.id, &small).unwrap();
        assert_eq!(store.query_devices(&q("renamed ga")).unwrap().matching, 1);
        assert_eq!(store.query_devices(&q("001234z")).unwrap().matching, 0);
        assert_eq!(store.query_devices(&q("")).unwrap().total, 11);
        assert_eq!(store.query_devices(&q("pum")).unwrap().matching, 1);
        // The index agrees with the table row for row (the check is written as an INSERT: the writer runs it).
        let integrity = store.write(|c| {
            Ok(c.query_row(
                "INSERT INTO devices_search(devices_search, rank) VALUES ('integrity-check', 1)",
                [],
                |_| Ok(()),
            )
            .optional()?)
        });
        assert!(integrity.is_ok(), "{integrity:?}");
    }

    #[test]
    fn refresh_replaces_fleet_and_search_finds_substrings() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let fleet = vec![
            device(acc.id, Cloud::Vicohome, "VCABC123", "Front door"),
            device(acc.id, Cloud::Vicohome, "VCXYZ789", "Garage"),
            device(acc.id, Cloud::Vicohome, "VCQQQ555", "Back yard"),
        ];
        store.replace_fleet(acc.id, &fleet).unwrap();
        let q = |s: &str| DeviceQuery {
            search: s.into(),
            ..Default::default()
        };
        let page = store.query_devices(&q("xyz7")).unwrap();
        assert_eq!(page.matching, 1);
        assert_eq!(page.rows[0].id, "VCXYZ789");
        assert_eq!(page.total, 3);
        // Short search (below trigram length) still works.
        assert_eq!(
            store.query_devices(&q("ga")).unwrap().rows[0].name,
            "Garage"
        );
        // Names are searched too, case-insensitively.
        assert_eq!(store.query_devices(&q("DOOR")).unwrap().matching, 1);
        // FTS operators are taken literally, not parsed.
        assert_eq!(store.query_devices(&q("\"AND OR")).unwrap().matching, 0);

        // A later listing without the garage camera removes it and keeps the others.
        store
            .replace_fleet(acc.id, &[fleet[0].clone(), fleet[2].clone()])
            .unwrap();
        assert_eq!(store.query_devices(&q("")).unwrap().total, 2);
        assert_eq!(store.query_devices(&q("xyz7")).unwrap().matching, 0);
    }

    #[test]
    fn freshness_reports_failures_without_dropping_cache() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Onenet, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        store
            .replace_fleet(
                acc.id,
                &[device(acc.id, Cloud::Onenet, "527776559", "Meter")],
            )
            .unwrap();
        assert!(store.fleet_freshness().unwrap().live);
        store
            .record_fleet_failure(acc.id, &ApiError::new(ErrorKind::Offline, "unreachable"))
            .unwrap();
        let fresh = store.fleet_freshness().unwrap();
        assert!(!fresh.live);
        assert!(fresh.oldest_refresh.is_some());
        assert_eq!(
            store.query_devices(&DeviceQuery::default()).unwrap().total,
            1
        );
    }

    #[test]
    fn filters_and_sorting() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let mut offline = device(acc.id, Cloud::Vicohome, "VC2", "b");
        offline.online = false;
        store
            .replace_fleet(
                acc.id,
                &[device(acc.id, Cloud::Vicohome, "VC1", "a"), offline],
            )
            .unwrap();
        let page = store
            .query_devices(&DeviceQuery {
                status: StatusFilter::Offline,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page.rows.len(), 1);
        assert_eq!(page.rows[0].id, "VC2");
        let page = store
            .query_devices(&DeviceQuery {
                sort: DeviceSort::Name,
                descending: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page.rows[0].name, "b");
        let page = store
            .query_devices(&DeviceQuery {
                cloud: Some(Cloud::Quectel),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page.matching, 0);
    }
}
