//! `otactl audit`: read and export the audit log.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use ota_app::audit::{AuditFormat, AuditQuery};
use ota_app::{ApiError, Cloud};

use crate::context::Context;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Filters {
    /// Actions starting with this (e.g. `campaign.` or `firmware.add`).
    #[arg(long)]
    action: Option<String>,
    #[arg(long, value_parser = crate::accounts::parse_cloud)]
    cloud: Option<Cloud>,
    /// `ok` or `error`.
    #[arg(long)]
    result: Option<String>,
    /// Substring of the target, actor or detail.
    #[arg(long)]
    text: Option<String>,
    /// From this time (RFC 3339, e.g. 2026-11-29T00:00:00Z).
    #[arg(long, value_parser = parse_time)]
    since: Option<i64>,
    /// Until this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    until: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Export the audit log (oldest first) to stdout or a file.
    Export {
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        filters: Filters,
    },
}

pub fn parse_time(raw: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("not an RFC 3339 time ({e}); e.g. 2026-11-29T08:00:00Z"))
}

impl Filters {
    fn query(self) -> AuditQuery {
        AuditQuery {
            action: self.action,
            cloud: self.cloud,
            result: self.result,
            text: self.text,
            since: self.since,
            until: self.until,
            limit: 0,
        }
    }
}

pub async fn run(ctx: &Context, cmd: AuditCommand) -> Result<ExitCode, ApiError> {
    let AuditCommand::Export {
        format,
        output,
        filters,
    } = cmd;
    let format = match format {
        Format::Csv => AuditFormat::Csv,
        Format::Json => AuditFormat::Json,
    };
    match output {
        Some(path) => {
            let written = ctx
                .app
                .audit_export_to(&filters.query(), format, path)
                .await?;
            eprintln!("{} entries written to {}", written.count, written.path);
        }
        None => print!("{}", ctx.app.audit_export(&filters.query(), format)?.0),
    }
    Ok(ExitCode::SUCCESS)
}
