//! The device cache: a cloud's listing written set-wise, the pages of the list with capped match counts,
//! and single-device reads with their tags (tag and cohort filters). Over 600 lines only with its tests (the
//! code is under 540 lines).

use std::collections::{HashMap, HashSet};

use super::Store;
use crate::db::{params, Dialect, Row, SqlExt, ToValue, Value};
use crate::error::OptionalRow;
use crate::error::{ApiError, CoreError, CoreResult, ErrorKind};
use crate::model::{
    now_ms, AccountFreshness, Cloud, Device, DevicePage, DeviceQuery, DeviceSort, FleetFreshness,
    StatusFilter,
};

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A filtered list counts its matches up to this many and then says "at least": counting every match
/// of a broad filter over a million devices costs more than the page itself, and past ten thousand the
/// exact number tells a person nothing a scroll bar does not. Unfiltered, the cache's own count is exact.
pub const COUNT_CAP: u32 = 10_000;

/// The last column is the device's tags, read for just the rows selected (a primary-key range of
/// `device_tags` each), joined with ',' (which a tag cannot hold).
const COLUMNS: &str =
    "d.account_id, d.cloud, d.device_id, d.product_key, d.name, d.model, d.manufacturer, \
     d.transport, d.firmware, d.newest_firmware, d.online, d.battery, d.signal, d.refreshed_at, \
     (SELECT string_agg(t.tag, ',') FROM device_tags t \
      WHERE t.account_id = d.account_id AND t.device_id = d.device_id)";

fn tags_of(joined: Option<String>) -> Vec<String> {
    let mut tags: Vec<String> = joined
        .unwrap_or_default()
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    tags.sort();
    tags
}

fn device_from_row(row: &Row) -> CoreResult<Device> {
    let cloud: String = row.get(1)?;
    Ok(Device {
        account_id: row.get(0)?,
        cloud: Cloud::parse(&cloud).ok_or_else(|| CoreError::Column {
            index: 1,
            message: format!("{cloud:?} is not a cloud"),
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
        tags: tags_of(row.get(14)?),
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

/// The SQL conditions (over `devices d`) of a filter's search, cloud, status and tag, with their
/// arguments. Its cohort is the caller's (it needs the cohort's row).
fn filter_conditions(
    dialect: Dialect,
    query: &DeviceQuery,
    conditions: &mut Vec<String>,
    args: &mut Vec<Value>,
) {
    let search = query.search.trim();
    if dialect == Dialect::Postgres && !search.is_empty() {
        // PostgreSQL: trigram indexes on the lower-cased columns answer LIKE (pg_trgm); lower() on
        // both sides matches SQLite's case-insensitive search.
        conditions.push(
            "(lower(d.device_id) LIKE ? ESCAPE '\\' OR lower(d.name) LIKE ? ESCAPE '\\' \
             OR lower(d.model) LIKE ? ESCAPE '\\')"
                .into(),
        );
        let pattern = Value::Text(like_pattern(&search.to_lowercase()));
        args.extend([pattern.clone(), pattern.clone(), pattern]);
    } else if search.chars().count() >= 3 {
        // Three characters or more: the trigram index. Shorter: a scan is the only way, and cheap enough
        // because one or two characters match most rows anyway.
        conditions
            .push("d.id IN (SELECT rowid FROM devices_search WHERE devices_search MATCH ?)".into());
        args.push(Value::Text(fts_phrase(search)));
    } else if !search.is_empty() {
        conditions.push(
            "(d.device_id LIKE ? ESCAPE '\\' OR d.name LIKE ? ESCAPE '\\' OR d.model LIKE ? ESCAPE '\\')"
                .into(),
        );
        let pattern = like_pattern(search);
        let pattern = Value::Text(pattern);
        args.extend([pattern.clone(), pattern.clone(), pattern]);
    }
    if let Some(cloud) = query.cloud {
        conditions.push("d.cloud = ?".into());
        args.push(Value::Text(cloud.as_str().to_string()));
    }
    match query.status {
        StatusFilter::All => {}
        StatusFilter::Online => conditions.push("d.online = 1".into()),
        StatusFilter::Offline => conditions.push("d.online = 0".into()),
    }
    if let Some(tag) = &query.tag {
        // The tag index, then the devices' own (account, device) key.
        conditions.push(
            "(d.account_id, d.device_id) IN (SELECT account_id, device_id FROM device_tags WHERE tag = ?)"
                .into(),
        );
        args.push(Value::Text(tag.trim().to_string()));
    }
}

/// The listed fleet of one account, staged in a temporary table of the writer's connection so the
/// cache is changed set-wise: a handful of statements whatever the fleet's size, instead of one statement
/// (with its statement journal and trigger programs) per device. `reindex` marks rows whose searched
/// text (id, name, model) is new to the cache.
const STAGE_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS fleet_incoming (
    device_id       TEXT PRIMARY KEY NOT NULL,
    cloud           TEXT NOT NULL,
    product_key     TEXT,
    name            TEXT NOT NULL,
    model           TEXT NOT NULL,
    manufacturer    TEXT,
    transport       TEXT,
    firmware        TEXT NOT NULL,
    newest_firmware TEXT,
    online          INTEGER NOT NULL,
    battery         INTEGER,
    signal          INTEGER,
    reindex         INTEGER NOT NULL DEFAULT 1
)";

/// Dynamic parameters as the SQL layer takes them.
fn refs(values: &[Value]) -> Vec<&dyn ToValue> {
    values.iter().map(|v| v as &dyn ToValue).collect()
}

impl Store {
    /// Replaces the cached fleet of one account with what its cloud just listed, in one transaction:
    /// rows are updated in place, new devices added, devices the cloud no longer lists removed. A device
    /// listed twice keeps its last entry.
    ///
    /// The trigram index is kept in the same transaction, set-wise: the row triggers are switched off
    /// (`search_maintenance.bulk`), the entries of removed or renamed rows are deleted, and entries are
    /// added for new or renamed rows only, so a refresh costs in proportion to what it lists, never to
    /// the whole cache (a rebuild would), and a row-by-row index costs ten times more a device.
    pub fn replace_fleet(&self, account_id: i64, devices: &[Device]) -> CoreResult<()> {
        let now = now_ms();
        self.write(|tx| {
            tx.execute("UPDATE search_maintenance SET bulk = 1 WHERE id = 1", params![])?;
            tx.execute(STAGE_TABLE, params![])?;
            tx.execute("DELETE FROM fleet_incoming", params![])?;
            {
                for d in devices {
                    tx.execute("INSERT INTO fleet_incoming (device_id, cloud, product_key, name, model,
                        manufacturer, transport, firmware, newest_firmware, online, battery, signal)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT (device_id) DO UPDATE SET cloud = excluded.cloud,
                        product_key = excluded.product_key, name = excluded.name, model = excluded.model,
                        manufacturer = excluded.manufacturer, transport = excluded.transport,
                        firmware = excluded.firmware, newest_firmware = excluded.newest_firmware,
                        online = excluded.online, battery = excluded.battery, signal = excluded.signal", params![
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
                    ])?;
                }
            }
            let fts = tx.dialect() == Dialect::Sqlite;
            // Index entries of rows that go away or whose searched text changes, while their old text is
            // still in the table (an external-content index deletes by the exact text it indexed).
            // PostgreSQL's trigram indexes are kept by the table itself.
            if fts {
              tx.execute(
                "INSERT INTO devices_search(devices_search, rowid, device_id, name, model)
                 SELECT 'delete', d.id, d.device_id, d.name, d.model FROM devices d
                 WHERE d.account_id = ?1 AND NOT EXISTS (
                    SELECT 1 FROM fleet_incoming i
                    WHERE i.device_id = d.device_id AND i.name = d.name AND i.model = d.model)
                 ORDER BY d.id",
                params![account_id],
              )?;
            }
            tx.execute(
                "UPDATE fleet_incoming SET reindex = 0 WHERE EXISTS (
                    SELECT 1 FROM devices d
                    WHERE d.account_id = ?1 AND d.device_id = fleet_incoming.device_id
                      AND d.name = fleet_incoming.name AND d.model = fleet_incoming.model)",
                params![account_id],
            )?;
            tx.execute(
                "DELETE FROM devices WHERE account_id = ?1
                   AND device_id NOT IN (SELECT device_id FROM fleet_incoming)",
                params![account_id],
            )?;
            // Every listed device was confirmed now; only rows that changed otherwise are rewritten below,
            // so an unchanged device costs no index update.
            tx.execute(
                "UPDATE devices SET refreshed_at = ?2 WHERE account_id = ?1",
                params![account_id, now],
            )?;
            // `WHERE true` tells the parser the ON CONFLICT belongs to the INSERT, not to a join.
            tx.execute(
                "INSERT INTO devices (account_id, device_id, cloud, product_key, name, model, manufacturer,
                    transport, firmware, newest_firmware, online, battery, signal, refreshed_at)
                 SELECT ?1, device_id, cloud, product_key, name, model, manufacturer, transport, firmware,
                    newest_firmware, online, battery, signal, ?2
                 FROM fleet_incoming WHERE true ORDER BY device_id
                 ON CONFLICT(account_id, device_id) DO UPDATE SET
                    cloud = excluded.cloud, product_key = excluded.product_key, name = excluded.name,
                    model = excluded.model, manufacturer = excluded.manufacturer,
                    transport = excluded.transport, firmware = excluded.firmware,
                    newest_firmware = excluded.newest_firmware, online = excluded.online,
                    battery = excluded.battery, signal = excluded.signal
                 WHERE devices.cloud IS DISTINCT FROM excluded.cloud OR devices.product_key IS DISTINCT FROM excluded.product_key
                    OR devices.name IS DISTINCT FROM excluded.name OR devices.model IS DISTINCT FROM excluded.model
                    OR devices.manufacturer IS DISTINCT FROM excluded.manufacturer
                    OR devices.transport IS DISTINCT FROM excluded.transport OR devices.firmware IS DISTINCT FROM excluded.firmware
                    OR devices.newest_firmware IS DISTINCT FROM excluded.newest_firmware
                    OR devices.online IS DISTINCT FROM excluded.online OR devices.battery IS DISTINCT FROM excluded.battery
                    OR devices.signal IS DISTINCT FROM excluded.signal",
                params![account_id, now],
            )?;
            if fts {
                tx.execute(
                    "INSERT INTO devices_search(rowid, device_id, name, model)
                     SELECT d.id, d.device_id, d.name, d.model
                     FROM fleet_incoming i JOIN devices d ON d.account_id = ?1 AND d.device_id = i.device_id
                     WHERE i.reindex = 1 ORDER BY d.id",
                    params![account_id],
                )?;
            }
            tx.execute("DELETE FROM fleet_incoming", params![])?;
            tx.execute("UPDATE search_maintenance SET bulk = 0 WHERE id = 1", params![])?;
            // Tags are kept in `device_tags`, keyed by account and device id, which this never touches:
            // they survive the rewrite; a device the cloud stops listing keeps its tags (shown again
            // if it is listed again). Continuous campaigns learn of the refresh through the generation.
            super::cohorts::bump_generation(tx)?;
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
            conn.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM devices d WHERE d.account_id = ?1 AND d.device_id = ?2"
                ),
                params![account_id, device_id],
                device_from_row,
            )
            .optional()
        })
    }

    /// Finds a device by the id its cloud uses, across accounts of that cloud.
    pub fn find_device(&self, cloud: Cloud, device_id: &str) -> CoreResult<Vec<Device>> {
        self.read(|conn| {
            let rows = conn.query_map(
                &format!("SELECT {COLUMNS} FROM devices d WHERE d.cloud = ?1 AND d.device_id = ?2"),
                params![cloud.as_str(), device_id],
                device_from_row,
            )?;
            Ok(rows)
        })
    }

    /// How many devices the cache holds per account (accounts with none are absent).
    pub fn device_counts_by_account(&self) -> CoreResult<std::collections::HashMap<i64, u64>> {
        self.read(|conn| {
            let rows = conn.query_map(
                "SELECT account_id, COUNT(*) FROM devices GROUP BY account_id",
                params![],
                |r| Ok((r.get::<i64>(0)?, r.get::<u64>(1)?)),
            )?;
            Ok(rows.into_iter().collect())
        })
    }

    /// Every cached device with this id, whatever its cloud or account.
    pub fn find_device_any(&self, device_id: &str) -> CoreResult<Vec<Device>> {
        self.read(|conn| {
            let rows = conn.query_map(
                &format!("SELECT {COLUMNS} FROM devices d WHERE d.device_id = ?1"),
                params![device_id],
                device_from_row,
            )?;
            Ok(rows)
        })
    }

    /// One page of the list, with its matches counted up to [`COUNT_CAP`] (exact below it).
    pub fn query_devices(&self, query: &DeviceQuery) -> CoreResult<DevicePage> {
        self.device_page(query, Some(COUNT_CAP))
    }

    /// [`Store::query_devices`] with every match counted, whatever that costs on a broad filter.
    pub fn query_devices_counting_all(&self, query: &DeviceQuery) -> CoreResult<DevicePage> {
        self.device_page(query, None)
    }

    fn device_page(&self, query: &DeviceQuery, count_cap: Option<u32>) -> CoreResult<DevicePage> {
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
        let mut conditions: Vec<String> = Vec::new();
        let dialect = self.dialect();
        let mut args: Vec<Value> = Vec::new();
        filter_conditions(dialect, query, &mut conditions, &mut args);
        if let Some(cohort) = query.cohort_id {
            match self.cohort_filter(cohort)? {
                super::cohorts::CohortFilter::Static => {
                    conditions.push(
                        "(d.account_id, d.device_id) IN \
                         (SELECT account_id, device_id FROM cohort_devices WHERE cohort_id = ?)"
                            .to_string(),
                    );
                    args.push(Value::Int(cohort));
                }
                super::cohorts::CohortFilter::Dynamic(saved) => {
                    filter_conditions(dialect, &saved, &mut conditions, &mut args);
                }
            }
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
        // The search index alone answers a search with no other filter: it holds exactly the rows of
        // the table (kept in the same transactions), without a lookup per match into `devices`.
        let search_only = query.cloud.is_none()
            && query.status == StatusFilter::All
            && query.tag.is_none()
            && query.cohort_id.is_none()
            && search.chars().count() >= 3
            && dialect == Dialect::Sqlite;
        self.read(|conn| {
            let total: u32 =
                conn.query_value("SELECT n FROM device_total WHERE id = 1", params![])?;
            let (matching, matching_at_least) = if where_clause.is_empty() {
                (total, false)
            } else {
                let counted = if search_only {
                    "SELECT rowid FROM devices_search WHERE devices_search MATCH ?".to_string()
                } else {
                    format!("SELECT 1 FROM devices d {where_clause}")
                };
                // One past the cap tells "exactly the cap" from "more than the cap".
                let mut count_args = args.clone();
                count_args.push(Value::Int(
                    count_cap.map_or(i64::MAX, |cap| i64::from(cap) + 1),
                ));
                let counted: u32 = conn.query_value(
                    &format!("SELECT COUNT(*) FROM ({counted} LIMIT ?) counted"),
                    &refs(&count_args),
                )?;
                match count_cap {
                    Some(cap) if counted > cap => (cap, true),
                    _ => (counted, false),
                }
            };
            let mut page_args = args;
            page_args.push(Value::Int(i64::from(limit)));
            page_args.push(Value::Int(i64::from(query.offset)));
            // The page is chosen first and its tags read for its rows only.
            let order = format!("{column} {direction}, d.device_id {direction}, d.account_id");
            let rows = conn.query_map(
                &format!(
                    "SELECT {COLUMNS} FROM (SELECT d.* FROM devices d {where_clause}
                    ORDER BY {order} LIMIT ? OFFSET ?) d
                 ORDER BY {order}"
                ),
                &refs(&page_args),
                device_from_row,
            )?;
            Ok(DevicePage {
                matching,
                matching_at_least,
                total,
                offset: query.offset,
                rows,
            })
        })
    }

    /// Per account: when its fleet was last fetched and whether the last attempt failed.
    pub fn fleet_freshness(&self) -> CoreResult<FleetFreshness> {
        self.read(|conn| {
            let accounts = conn.query_map("SELECT a.id, a.name, a.cloud, f.refreshed_at, f.attempted_at, f.error_kind, f.error_message
                 FROM accounts a LEFT JOIN fleet_refresh f ON f.account_id = a.id
                 ORDER BY a.sandbox DESC, a.cloud, a.name", params![], |row| {
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
                ;
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
            let keys = conn.query_map(
                "SELECT DISTINCT product_key FROM devices
                 WHERE account_id = ?1 AND product_key IS NOT NULL AND (CAST(?2 AS TEXT) IS NULL OR model = ?2)
                 ORDER BY product_key",
                params![account_id, model],
                |r| r.get(0),
            )?;
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
            let set = conn.query_map(
                "SELECT account_id, device_id FROM ota_jobs WHERE state IN ('starting', 'running')
                 UNION
                 SELECT d.account_id, d.device_id FROM campaign_devices d
                 JOIN campaigns c ON c.id = d.campaign_id
                 WHERE d.state IN ('starting', 'running')
                    OR (d.state = 'pending' AND c.state IN ('ready', 'running', 'paused'))",
                params![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(set.into_iter().collect())
        })
    }
}

impl Store {
    /// Devices another campaign still has (pending in a campaign not finished, or updating), with the
    /// campaign's id (the lowest, when several have one).
    pub fn devices_in_active_campaigns(&self) -> CoreResult<HashMap<(i64, String), i64>> {
        self.read(|conn| {
            let map = conn.query_map(
                "SELECT d.account_id, d.device_id, MIN(c.id) FROM campaign_devices d
                 JOIN campaigns c ON c.id = d.campaign_id
                 WHERE d.state IN ('starting', 'running')
                    OR (d.state = 'pending' AND c.state IN ('ready', 'running', 'paused'))
                 GROUP BY d.account_id, d.device_id",
                params![],
                |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)),
            )?;
            Ok(map.into_iter().collect())
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
            tags: Vec::new(),
        }
    }

    /// The index agrees with the table row for row (the check is written as an INSERT: the writer runs it).
    fn assert_search_index_intact(store: &Store) {
        // SQLite's FTS5 table; PostgreSQL's trigram indexes belong to the table itself.
        if store.dialect() == Dialect::Postgres {
            return;
        }
        let integrity = store.write(|c| {
            c.query_row(
                "INSERT INTO devices_search(devices_search, rank) VALUES ('integrity-check', 1)",
                params![],
                |_| Ok(()),
            )
            .optional()
        });
        assert!(integrity.is_ok(), "{integrity:?}");
    }

    fn search(s: &str) -> DeviceQuery {
        DeviceQuery {
            search: s.into(),
            ..Default::default()
        }
    }

    #[test]
    fn large_imports_and_small_refreshes_keep_the_search_index_exact() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let big: Vec<Device> = (0..2_500)
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
        let page = store.query_devices(&search("001234z")).unwrap();
        assert_eq!((page.matching, page.rows[0].id.as_str()), (1, "VC001234Z"));
        assert_eq!(page.total as usize, big.len());
        // The same listing again changes nothing a search can see.
        store.replace_fleet(acc.id, &big).unwrap();
        assert_eq!(
            store.query_devices(&search("cam 24")).unwrap().matching,
            111
        );
        // Small refreshes after the large one: renames and removals are searchable at once.
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
        assert_eq!(
            store.query_devices(&search("renamed ga")).unwrap().matching,
            1
        );
        assert_eq!(store.query_devices(&search("cam 3")).unwrap().matching, 0);
        assert_eq!(store.query_devices(&search("001234z")).unwrap().matching, 0);
        assert_eq!(store.query_devices(&search("")).unwrap().total, 11);
        assert_eq!(store.query_devices(&search("pum")).unwrap().matching, 1);
        assert_search_index_intact(&store);
    }

    #[test]
    fn a_device_listed_twice_keeps_its_last_entry() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let mut later = device(acc.id, Cloud::Vicohome, "VC1", "Back door");
        later.firmware = "2.0.0".into();
        store
            .replace_fleet(
                acc.id,
                &[device(acc.id, Cloud::Vicohome, "VC1", "Front door"), later],
            )
            .unwrap();
        let page = store.query_devices(&search("")).unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(
            (page.rows[0].name.as_str(), page.rows[0].firmware.as_str()),
            ("Back door", "2.0.0")
        );
        assert_eq!(store.query_devices(&search("front")).unwrap().matching, 0);
        assert_eq!(store.query_devices(&search("back d")).unwrap().matching, 1);
        assert_search_index_intact(&store);
    }

    #[test]
    fn a_refresh_confirms_every_listed_device_and_keeps_what_it_did_not_change() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let fleet = [
            device(acc.id, Cloud::Vicohome, "VC1", "Porch"),
            device(acc.id, Cloud::Vicohome, "VC2", "Garage"),
        ];
        store.replace_fleet(acc.id, &fleet).unwrap();
        let first = store.device(acc.id, "VC1").unwrap().unwrap().refreshed_at;
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut changed = fleet.clone();
        changed[1].battery = Some(12);
        store.replace_fleet(acc.id, &changed).unwrap();
        let unchanged = store.device(acc.id, "VC1").unwrap().unwrap();
        let updated = store.device(acc.id, "VC2").unwrap().unwrap();
        assert!(
            unchanged.refreshed_at > first,
            "an unchanged device is confirmed too"
        );
        assert_eq!(unchanged.refreshed_at, updated.refreshed_at);
        assert_eq!(updated.battery, Some(12));
        assert_eq!(unchanged.name, "Porch");
    }

    #[test]
    fn counts_are_exact_below_the_cap_and_a_floor_above_it() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Vicohome, "Sandbox", "http://127.0.0.1:1", None)
            .unwrap();
        let n = COUNT_CAP as usize + 5;
        let fleet: Vec<Device> = (0..n)
            .map(|i| {
                let mut d = device(
                    acc.id,
                    Cloud::Vicohome,
                    &format!("VC{i:06}"),
                    &format!("Camera {i:05}"),
                );
                d.online = i % 2 == 0;
                d
            })
            .collect();
        store.replace_fleet(acc.id, &fleet).unwrap();
        let count = |q: &DeviceQuery| {
            let page = store.query_devices(q).unwrap();
            (page.matching, page.matching_at_least)
        };
        // No filter: the cache's own count, exact whatever its size.
        assert_eq!(count(&search("")), (n as u32, false));
        // A search matching every device, long and short (index and scan): "10 000+".
        assert_eq!(count(&search("camera")), (COUNT_CAP, true));
        assert_eq!(count(&search("ca")), (COUNT_CAP, true));
        // Fewer matches than the cap: exact.
        assert_eq!(count(&search("camera 0999")), (10, false));
        assert_eq!(
            count(&DeviceQuery {
                status: StatusFilter::Offline,
                ..Default::default()
            }),
            (n as u32 / 2, false)
        );
        let online_camera = DeviceQuery {
            search: "camera".into(),
            status: StatusFilter::Online,
            ..Default::default()
        };
        assert_eq!(count(&online_camera), (n as u32 / 2 + 1, false));
        // Counting every match, when asked.
        let all = store.query_devices_counting_all(&search("camera")).unwrap();
        assert_eq!((all.matching, all.matching_at_least), (n as u32, false));
        // The pages go on past the cap.
        let last = store
            .query_devices(&DeviceQuery {
                search: "camera".into(),
                sort: DeviceSort::Name,
                offset: COUNT_CAP,
                limit: 100,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(last.rows.len(), 5);
        assert_eq!(last.rows[4].name, format!("Camera {:05}", n - 1));
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
