use super::Store;
use crate::db::{params, Dialect, Row, Sql, SqlExt};
use crate::error::OptionalRow;
use crate::error::{ApiError, CoreResult, ErrorKind};
use crate::library::{FirmwareEntry, FirmwarePublication, NewFirmwareEntry};
use crate::model::{now_ms, Cloud};

const COLUMNS: &str =
    "id, sha256, md5, size, file_name, version, cloud, model, notes, added_by, added_at";

fn entry(row: &Row) -> CoreResult<FirmwareEntry> {
    let cloud: String = row.get(6)?;
    let model: String = row.get(7)?;
    Ok(FirmwareEntry {
        id: row.get(0)?,
        sha256: row.get(1)?,
        md5: row.get(2)?,
        size: row.get::<i64>(3)?.max(0) as u64,
        file_name: row.get(4)?,
        version: row.get(5)?,
        cloud: Cloud::parse(&cloud).unwrap_or(Cloud::Vicohome),
        model: (!model.is_empty()).then_some(model),
        notes: row.get(8)?,
        added_by: row.get(9)?,
        added_at: row.get(10)?,
        publications: Vec::new(),
        campaigns: 0,
    })
}

impl Store {
    /// Records a library entry. The same bytes for the same version, cloud and model are one entry:
    /// adding them again returns the existing one (`false`).
    pub fn add_firmware(&self, new: &NewFirmwareEntry<'_>) -> CoreResult<(FirmwareEntry, bool)> {
        let model = new.model.unwrap_or("");
        self.write(|tx| {
            let existing = tx
                .query_row(
                    &format!(
                        "SELECT {COLUMNS} FROM firmware
                         WHERE sha256 = ?1 AND version = ?2 AND cloud = ?3 AND model = ?4"
                    ),
                    params![new.sha256, new.version, new.cloud.as_str(), model],
                    entry,
                )
                .optional()?;
            if let Some(found) = existing {
                return Ok((found, false));
            }
            let id: i64 = tx.query_value(
                "INSERT INTO firmware (sha256, md5, size, file_name, version, cloud, model, notes, added_by, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                params![
                    new.sha256,
                    new.md5,
                    new.size as i64,
                    new.file_name,
                    new.version,
                    new.cloud.as_str(),
                    model,
                    new.notes,
                    new.added_by,
                    now_ms()
                ],
            )?;
            let found = tx.query_row(
                &format!("SELECT {COLUMNS} FROM firmware WHERE id = ?1"),
                params![id],
                entry,
            )?;
            Ok((found, true))
        })
    }

    /// Newest first, with where each was published and how many campaigns use it.
    pub fn firmware_list(&self) -> CoreResult<Vec<FirmwareEntry>> {
        self.read(|conn| {
            let mut list = conn.query_map(
                &format!("SELECT {COLUMNS} FROM firmware ORDER BY added_at DESC, id DESC"),
                params![],
                entry,
            )?;
            for item in &mut list {
                fill_usage(conn, item)?;
            }
            Ok(list)
        })
    }

    pub fn firmware(&self, id: i64) -> CoreResult<FirmwareEntry> {
        self.read(|conn| {
            let mut item = conn
                .query_row(
                    &format!("SELECT {COLUMNS} FROM firmware WHERE id = ?1"),
                    params![id],
                    entry,
                )
                .optional()?
                .ok_or_else(|| {
                    ApiError::not_found(format!("No firmware #{id} in the library."))
                        .with_hint("The library lists what it holds: `otactl firmware list`.")
                })?;
            fill_usage(conn, &mut item)?;
            Ok(item)
        })
    }

    /// Deletes an entry unless a campaign refers to it; returns whether other entries still use its
    /// bytes (then the stored file stays).
    pub fn delete_firmware(&self, id: i64) -> CoreResult<(FirmwareEntry, bool)> {
        let item = self.firmware(id)?;
        self.write(|tx| {
            let campaigns: i64 = tx.query_row(
                "SELECT COUNT(*) FROM campaigns WHERE firmware_id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            if campaigns > 0 {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!(
                        "{} {} is used by {campaigns} campaign(s) and cannot be deleted.",
                        item.file_name, item.version
                    ),
                )
                .with_hint("Delete those campaigns first; the audit log keeps their record.")
                .into());
            }
            tx.execute("DELETE FROM firmware WHERE id = ?1", params![id])?;
            let shared: i64 = tx.query_row(
                "SELECT COUNT(*) FROM firmware WHERE sha256 = ?1",
                params![&item.sha256],
                |r| r.get(0),
            )?;
            Ok((item.clone(), shared > 0))
        })
    }

    /// Team mode: keeps a package's bytes in the shared database under their SHA-256, so a runner or
    /// desk on another machine can fetch and verify them. A desk's own file keeps bytes in the library
    /// folder only (no-op).
    pub fn put_firmware_blob(&self, sha256: &str, bytes: &[u8]) -> CoreResult<()> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(());
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO firmware_blobs (sha256, bytes) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![sha256, bytes],
            )?;
            Ok(())
        })
    }

    /// Team mode: a package's bytes from the shared database (`None` for a desk, or when not stored).
    pub fn firmware_blob(&self, sha256: &str) -> CoreResult<Option<Vec<u8>>> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(None);
        }
        self.read(|conn| {
            conn.query_opt(
                "SELECT bytes FROM firmware_blobs WHERE sha256 = ?1",
                params![sha256],
                |r| r.get(0),
            )
        })
    }

    /// Team mode: forgets a package's bytes once no library entry uses them.
    pub fn delete_firmware_blob(&self, sha256: &str) -> CoreResult<()> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(());
        }
        self.write(|tx| {
            tx.execute(
                "DELETE FROM firmware_blobs WHERE sha256 = ?1
                 AND NOT EXISTS (SELECT 1 FROM firmware WHERE sha256 = ?1)",
                params![sha256],
            )?;
            Ok(())
        })
    }

    pub fn record_publication(
        &self,
        firmware_id: i64,
        account_id: i64,
        detail: &str,
    ) -> CoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO firmware_publications (firmware_id, account_id, published_at, detail)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (firmware_id, account_id)
                 DO UPDATE SET published_at = excluded.published_at, detail = excluded.detail",
                params![firmware_id, account_id, now_ms(), detail],
            )?;
            Ok(())
        })
    }
}

fn fill_usage(conn: &dyn Sql, item: &mut FirmwareEntry) -> CoreResult<()> {
    item.publications = conn.query_map(
        "SELECT p.account_id, a.name, p.published_at, p.detail
         FROM firmware_publications p JOIN accounts a ON a.id = p.account_id
         WHERE p.firmware_id = ?1 ORDER BY p.published_at",
        params![item.id],
        |row| {
            Ok(FirmwarePublication {
                account_id: row.get(0)?,
                account_name: row.get(1)?,
                published_at: row.get(2)?,
                detail: row.get(3)?,
            })
        },
    )?;
    item.campaigns = conn.query_row(
        "SELECT COUNT(*) FROM campaigns WHERE firmware_id = ?1",
        params![item.id],
        |r| r.get::<i64>(0),
    )? as u32;
    Ok(())
}
