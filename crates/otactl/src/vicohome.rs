use std::process::ExitCode;

use clap::Subcommand;
use ota_app::jobs::{format_bytes_progress, JobPhase, JobState, JobView};
use ota_app::vicohome::StartKind;
use ota_app::{ApiError, ErrorKind};
use serde::Serialize;

use crate::context::Context;
use crate::output::{print_json, print_json_line};

#[derive(Debug, Subcommand)]
pub enum VicohomeCommand {
    /// Start a firmware update of a camera.
    Start {
        #[arg(long)]
        serial: String,
        /// Follow the update until it ends; exit 0 when complete, non-zero on failure.
        #[arg(long)]
        wait: bool,
        /// JSON lines: {"serial","otaStatus","percent","transferred","total"}.
        #[arg(long)]
        json: bool,
    },
    /// The camera's current update status, as the cloud reports it.
    Status {
        #[arg(long)]
        serial: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressLine<'a> {
    serial: &'a str,
    ota_status: Option<i32>,
    percent: u8,
    transferred: u64,
    total: u64,
    phase: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ApiError>,
}

fn print_progress(job: &JobView, json: bool) -> Result<(), ApiError> {
    if json {
        print_json_line(&ProgressLine {
            serial: &job.device_id,
            ota_status: job.vendor_state,
            percent: job.percent,
            transferred: job.transferred,
            total: job.total,
            phase: job.phase.as_str(),
            error: job.error.as_ref(),
        })
    } else {
        let label = match job.phase {
            JobPhase::Starting => "Starting".to_string(),
            JobPhase::Downloading => format!(
                "Downloading {}% · {}",
                job.percent,
                format_bytes_progress(job.transferred, job.total)
            ),
            JobPhase::Installing => format!("Installing {}%", job.percent),
            JobPhase::Complete => format!(
                "Done 100% · firmware {}",
                job.to_version.as_deref().unwrap_or("updated")
            ),
            _ => format!(
                "Failed: {}",
                job.error
                    .as_ref()
                    .map(|e| e.display_line())
                    .unwrap_or_default()
            ),
        };
        println!("{}  {label}", job.device_id);
        Ok(())
    }
}

pub async fn run(ctx: &Context, cmd: VicohomeCommand) -> Result<ExitCode, ApiError> {
    match cmd {
        VicohomeCommand::Start { serial, wait, json } => {
            // Every change is printed, none coalesced.
            let (job, how) = ctx
                .app
                .start_vicohome_update(None, &serial, std::time::Duration::ZERO)
                .await?;
            if how == StartKind::AlreadyRunning {
                eprintln!(
                    "An update of {serial} is already in progress (job {}); following it.",
                    job.first.id
                );
            }
            print_progress(&job.first, json)?;
            if !wait {
                return Ok(ExitCode::SUCCESS);
            }
            let mut updates = job.updates;
            let mut last = job.first;
            while let Some(view) = updates.recv().await {
                if (view.percent, view.phase, view.state) != (last.percent, last.phase, last.state)
                {
                    print_progress(&view, json)?;
                }
                last = view;
            }
            match &last.error {
                None if last.state == JobState::Succeeded => Ok(ExitCode::SUCCESS),
                Some(err) => Err(err.clone()),
                None => Err(ApiError::new(
                    ErrorKind::Internal,
                    "The update ended without a result.",
                )),
            }
        }
        VicohomeCommand::Status { serial, json } => {
            let status = ctx.app.vicohome_status(&serial).await?;
            if json {
                print_json(&status)?;
            } else {
                println!(
                    "{}  otaStatus {} ({}) {}% · {}",
                    status.serial,
                    status.ota_status,
                    status.phase.as_str(),
                    status.percent,
                    format_bytes_progress(status.transferred, status.total)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
