//! Tags and cohorts in SQLite (migration 0011): `device_tags` keyed by (account, device id, tag) so tags
//! outlive the fleet refresh's rewrites of `devices`; `cohorts` and a static cohort's `cohort_devices`;
//! `fleet_generation`, bumped by every change that can change what a filter or cohort matches.

use super::Store;
use crate::campaign::model::DeviceKey;
use crate::cohort::{Cohort, CohortKind, TagCount};
use crate::db::{params, Row, Sql, SqlExt};
use crate::error::OptionalRow;
use crate::error::{ApiError, CoreResult};
use crate::model::{now_ms, DeviceQuery};

/// A cohort as stored: its kind and, when dynamic, its filter.
#[derive(Debug, Clone)]
pub enum CohortFilter {
    Static,
    Dynamic(DeviceQuery),
}

/// Bumps the fleet generation in the caller's transaction.
pub(crate) fn bump_generation(tx: &dyn Sql) -> CoreResult<()> {
    tx.execute(
        "UPDATE fleet_generation SET n = n + 1 WHERE id = 1",
        params![],
    )?;
    Ok(())
}

const COHORT_COLUMNS: &str = "id, name, kind, query, created_by, created_at";

fn cohort_from_row(row: &Row) -> CoreResult<Cohort> {
    let kind: String = row.get(2)?;
    let query: Option<String> = row.get(3)?;
    Ok(Cohort {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: if kind == "dynamic" {
            CohortKind::Dynamic
        } else {
            CohortKind::Static
        },
        device_count: 0,
        created_by: row.get(4)?,
        created_at: row.get(5)?,
        query: query.and_then(|q| serde_json::from_str(&q).ok()),
    })
}

fn cohort_not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("No cohort #{id}."))
        .with_hint("`otactl cohort list` shows the cohorts.")
}

impl Store {
    /// Where the fleet stands: changes whenever what a filter or cohort matches may have changed.
    pub fn fleet_generation(&self) -> CoreResult<i64> {
        self.read(|conn| conn.query_value("SELECT n FROM fleet_generation WHERE id = 1", params![]))
    }

    /// Adds and removes tags on devices in one transaction; answers how many devices changed.
    pub fn tag_devices(
        &self,
        devices: &[DeviceKey],
        add: &[String],
        remove: &[String],
    ) -> CoreResult<u32> {
        self.write(|tx| {
            let now = now_ms();
            let mut changed = 0;
            let mut seen = std::collections::HashSet::new();
            for key in devices {
                if !seen.insert(key) {
                    continue;
                }
                let mut rows = 0;
                for tag in add {
                    rows += tx.execute("INSERT INTO device_tags (account_id, device_id, tag, tagged_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING", params![key.account_id, key.device_id, tag, now])?;
                }
                for tag in remove {
                    rows += tx.execute("DELETE FROM device_tags WHERE account_id = ?1 AND device_id = ?2 AND tag = ?3", params![key.account_id, key.device_id, tag])?;
                }
                if rows > 0 {
                    changed += 1;
                }
            }
            if changed > 0 {
                bump_generation(tx)?;
            }
            Ok(changed)
        })
    }

    /// Every tag with how many cached devices have it, by name.
    pub fn tag_counts(&self) -> CoreResult<Vec<TagCount>> {
        self.read(|conn| {
            let rows = conn.query_map(
                "SELECT t.tag, COUNT(*) FROM device_tags t
                 JOIN devices d ON d.account_id = t.account_id AND d.device_id = t.device_id
                 GROUP BY t.tag ORDER BY t.tag",
                params![],
                |r| {
                    Ok(TagCount {
                        tag: r.get(0)?,
                        count: r.get(1)?,
                    })
                },
            )?;
            Ok(rows)
        })
    }

    /// Writes a cohort (a static one with its devices) in one transaction; answers its id.
    pub fn create_cohort(
        &self,
        name: &str,
        created_by: &str,
        query: Option<&DeviceQuery>,
        devices: &[DeviceKey],
    ) -> CoreResult<i64> {
        let query = query
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| ApiError::internal(format!("cohort filter: {e}")))?;
        self.write(|tx| {
            let id: i64 = tx.query_value(
                "INSERT INTO cohorts (name, kind, query, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![
                    name,
                    if query.is_some() { "dynamic" } else { "static" },
                    query,
                    created_by,
                    now_ms()
                ],
            )?;
            for key in devices {
                tx.execute(
                    "INSERT INTO cohort_devices (cohort_id, account_id, device_id)
                 VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![id, key.account_id, key.device_id],
                )?;
            }
            bump_generation(tx)?;
            Ok(id)
        })
    }

    /// A cohort's kind and filter, for the device queries.
    pub(crate) fn cohort_filter(&self, id: i64) -> CoreResult<CohortFilter> {
        self.read(|conn| {
            let row: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT kind, query FROM cohorts WHERE id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (kind, query) = row.ok_or_else(|| cohort_not_found(id))?;
            if kind != "dynamic" {
                return Ok(CohortFilter::Static);
            }
            let query: DeviceQuery = query
                .and_then(|q| serde_json::from_str(&q).ok())
                .unwrap_or_default();
            Ok(CohortFilter::Dynamic(DeviceQuery {
                // Never nested: a saved filter naming a cohort is refused when it is created.
                cohort_id: None,
                ..query
            }))
        })
    }

    /// The devices a static cohort lists (cached or not).
    pub fn cohort_device_keys(&self, id: i64) -> CoreResult<Vec<DeviceKey>> {
        self.read(|conn| {
            let rows = conn.query_map(
                "SELECT account_id, device_id FROM cohort_devices WHERE cohort_id = ?1
                 ORDER BY account_id, device_id",
                params![id],
                |r| {
                    Ok(DeviceKey {
                        account_id: r.get(0)?,
                        device_id: r.get(1)?,
                    })
                },
            )?;
            Ok(rows)
        })
    }

    fn with_count(&self, mut cohort: Cohort) -> CoreResult<Cohort> {
        cohort.device_count = self
            .query_devices_counting_all(&DeviceQuery {
                cohort_id: Some(cohort.id),
                limit: 1,
                ..DeviceQuery::default()
            })?
            .matching;
        Ok(cohort)
    }

    pub fn cohort(&self, id: i64) -> CoreResult<Cohort> {
        let cohort = self.read(|conn| {
            conn.query_row(
                &format!("SELECT {COHORT_COLUMNS} FROM cohorts WHERE id = ?1"),
                params![id],
                cohort_from_row,
            )
            .optional()?
            .ok_or_else(|| cohort_not_found(id).into())
        })?;
        self.with_count(cohort)
    }

    pub fn cohort_by_name(&self, name: &str) -> CoreResult<Option<Cohort>> {
        let cohort = self.read(|conn| {
            conn.query_row(
                &format!("SELECT {COHORT_COLUMNS} FROM cohorts WHERE name = ?1"),
                params![name],
                cohort_from_row,
            )
            .optional()
        })?;
        cohort.map(|c| self.with_count(c)).transpose()
    }

    /// Every cohort, by name, with its current device count.
    pub fn cohorts(&self) -> CoreResult<Vec<Cohort>> {
        let cohorts = self.read(|conn| {
            let rows = conn.query_map(
                &format!("SELECT {COHORT_COLUMNS} FROM cohorts ORDER BY name"),
                params![],
                cohort_from_row,
            )?;
            Ok(rows)
        })?;
        cohorts.into_iter().map(|c| self.with_count(c)).collect()
    }

    /// A campaign that is not finished and targets the cohort, if any (the lowest id).
    pub fn active_campaign_of_cohort(&self, id: i64) -> CoreResult<Option<i64>> {
        self.read(|conn| {
            conn.query_row(
                "SELECT MIN(id) FROM campaigns WHERE cohort_id = ?1
                 AND state IN ('ready', 'running', 'paused')",
                params![id],
                |r| r.get(0),
            )
        })
    }

    /// Deletes a cohort unless a campaign that is not finished targets it (checked in the same
    /// transaction).
    pub fn delete_cohort(&self, id: i64) -> CoreResult<()> {
        self.write(|tx| {
            let active: Option<i64> = tx.query_row(
                "SELECT MIN(id) FROM campaigns WHERE cohort_id = ?1
                 AND state IN ('ready', 'running', 'paused')",
                params![id],
                |r| r.get(0),
            )?;
            if let Some(campaign) = active {
                return Err(ApiError::validation(format!(
                    "Campaign #{campaign} targets cohort #{id}; it can be deleted once that campaign has ended."
                ))
                .into());
            }
            let n = tx.execute("DELETE FROM cohorts WHERE id = ?1", params![id])?;
            if n == 0 {
                return Err(cohort_not_found(id).into());
            }
            bump_generation(tx)?;
            Ok(())
        })
    }
}
