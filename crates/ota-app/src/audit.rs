//! The audit log: read it with filters, export it (CSV or JSON, oldest first).

use std::path::PathBuf;

pub use ota_core::audit_export::{suggested_file_name, AuditFormat};
pub use ota_core::store::{AuditEntry, AuditQuery};

use crate::{ApiError, App};

/// Entries one read answers at most (the window's list).
pub const MAX_AUDIT_ROWS: u32 = 5_000;

/// Where an export went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditExported {
    #[ts(type = "number")]
    pub count: usize,
    /// Where it was written, to show.
    pub path: String,
}

impl App {
    /// The newest matching entries, at most [`MAX_AUDIT_ROWS`].
    pub fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, ApiError> {
        let mut query = query.clone();
        if query.limit == 0 || query.limit > MAX_AUDIT_ROWS {
            query.limit = MAX_AUDIT_ROWS;
        }
        Ok(self.console.store().audit_query(&query)?)
    }

    /// Every matching entry as text in `format`, with how many there are.
    pub fn audit_export(
        &self,
        query: &AuditQuery,
        format: AuditFormat,
    ) -> Result<(String, usize), ApiError> {
        ota_core::audit_export::export(&self.console, query, format)
    }

    /// Writes the export to `path` (never through a link; a temp file renamed into place).
    pub async fn audit_export_to(
        &self,
        query: &AuditQuery,
        format: AuditFormat,
        path: PathBuf,
    ) -> Result<AuditExported, ApiError> {
        let (text, count) = self.audit_export(query, format)?;
        let shown = path.display().to_string();
        crate::blocking(move || ota_core::audit_export::write_export(&path, &text)).await?;
        Ok(AuditExported { count, path: shown })
    }
}
