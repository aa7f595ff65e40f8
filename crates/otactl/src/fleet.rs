//! `otactl fleet versions`: which firmware the cached fleet runs per cloud and model, how many devices are
//! behind the newest, how updates to each version went, failures per day; `--csv FILE` writes the
//! per-version counts for a spreadsheet.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use ota_app::fleet::FleetVersions;
use ota_app::ApiError;

use crate::context::Context;
use crate::output::print_as;

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Firmware versions per cloud and model (from the device cache), success per version, and the last
    /// 30 days' failures by reason.
    Versions {
        #[arg(long)]
        json: bool,
        /// Also write one row per cloud, model and version to this CSV file.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
    },
}

fn print_versions(f: &FleetVersions) {
    if f.models.is_empty() {
        println!("No devices cached yet: `otactl devices list` fetches the fleet.");
    }
    for m in &f.models {
        println!(
            "{} {}: newest {} · {} device{} · {} behind",
            m.cloud.label(),
            if m.model.is_empty() {
                "(no model)"
            } else {
                &m.model
            },
            if m.newest.is_empty() { "?" } else { &m.newest },
            m.total,
            if m.total == 1 { "" } else { "s" },
            m.behind
        );
        for v in &m.versions {
            println!(
                "  {:<24} {:>7}",
                if v.version.is_empty() {
                    "(unknown)"
                } else {
                    &v.version
                },
                v.devices
            );
        }
    }
    if !f.success_by_version.is_empty() {
        println!("updates by target version:");
        for s in &f.success_by_version {
            let done = s.succeeded + s.failed;
            let rate = if done == 0 {
                String::new()
            } else {
                format!(
                    " ({:.1} %)",
                    f64::from(s.succeeded) * 100.0 / f64::from(done)
                )
            };
            println!(
                "  {} {}: {} succeeded, {} failed{rate} · {} attempts",
                s.cloud.label(),
                s.version,
                s.succeeded,
                s.failed,
                s.attempts
            );
        }
    }
    if !f.failures_by_day.is_empty() {
        println!("failures by day (UTC, last 30 days):");
        for d in &f.failures_by_day {
            println!("  {} {:<14} {:>6}", d.day, d.reason, d.count);
        }
    }
}

pub async fn run(ctx: &Context, cmd: FleetCommand) -> Result<ExitCode, ApiError> {
    match cmd {
        FleetCommand::Versions { json, csv } => {
            if let Some(path) = csv {
                let written = ctx.app.export_fleet_versions(path).await?;
                let line = format!("wrote {} rows to {}", written.rows, written.path);
                if json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
            let versions = ctx.app.fleet_versions()?;
            print_as(json, &versions, print_versions)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
