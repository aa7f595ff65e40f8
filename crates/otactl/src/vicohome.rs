use std::process::ExitCode;

use clap::Subcommand;
use ota_core::progress::format_bytes_progress;
use ota_core::store::JobView;
use ota_core::{Account, ApiError, Cloud, ErrorKind};
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

/// The account that holds this camera: the one given with --account, else the Vicohome account whose
/// cached fleet lists it (refreshing the cache once if no account does).
async fn account_for(ctx: &Context, serial: &str) -> Result<Account, ApiError> {
    let vicohome: Vec<&Account> = ctx
        .scope
        .iter()
        .filter(|a| a.cloud == Cloud::Vicohome)
        .collect();
    if vicohome.is_empty() {
        return Err(
            ApiError::not_found("No Vicohome account is configured.").with_hint(
                "Add one with `otactl accounts add --cloud vicohome ...`, or use --sandbox.",
            ),
        );
    }
    if let [only] = vicohome.as_slice() {
        return Ok((*only).clone());
    }
    for attempt in 0..2 {
        let holders = ctx.console.store().find_device(Cloud::Vicohome, serial)?;
        if let Some(account) = vicohome
            .iter()
            .find(|a| holders.iter().any(|d| d.account_id == a.id))
        {
            return Ok((*account).clone());
        }
        if attempt == 0 {
            let owned: Vec<Account> = vicohome.iter().map(|a| (*a).clone()).collect();
            ctx.console.refresh_accounts(&owned).await?;
        }
    }
    Err(
        ApiError::not_found(format!("No Vicohome account lists the camera {serial}."))
            .with_hint("Check the serial number, or name the account with --account."),
    )
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
            ota_core::progress::JobPhase::Starting => "Starting".to_string(),
            ota_core::progress::JobPhase::Downloading => format!(
                "Downloading {}% · {}",
                job.percent,
                format_bytes_progress(job.transferred, job.total)
            ),
            ota_core::progress::JobPhase::Installing => format!("Installing {}%", job.percent),
            ota_core::progress::JobPhase::Complete => format!(
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
            let account = account_for(ctx, &serial).await?;
            let mut updates = ctx.console.subscribe_jobs();
            // An update this store already started (e.g. before otactl or the app was killed) is followed,
            // never started a second time.
            let job = match ctx.console.store().active_job_for(account.id, &serial)? {
                Some(running) => {
                    eprintln!(
                        "An update of {serial} is already in progress (job {}); following it.",
                        running.id
                    );
                    ota_core::jobs::watch_job(ctx.console.clone(), running.id)?
                }
                None => {
                    ota_core::folder_lock::cli_may_begin(
                        &ctx.console.data_dir(),
                        ota_core::folder_lock::CliWork::StartUpdate(&serial),
                    )?;
                    ota_core::jobs::start_vicohome_update(ctx.console.clone(), account.id, &serial)
                        .await?
                }
            };
            print_progress(&job, json)?;
            if !wait {
                return Ok(ExitCode::SUCCESS);
            }
            let mut last = job;
            while last.state.is_active() {
                match updates.recv().await {
                    Ok(view) if view.id == last.id => {
                        if (view.percent, view.phase, view.state)
                            != (last.percent, last.phase, last.state)
                        {
                            print_progress(&view, json)?;
                        }
                        last = view;
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
            match &last.error {
                None if last.state == ota_core::store::JobState::Succeeded => Ok(ExitCode::SUCCESS),
                Some(err) => Err(err.clone()),
                None => Err(ApiError::new(
                    ErrorKind::Internal,
                    "The update ended without a result.",
                )),
            }
        }
        VicohomeCommand::Status { serial, json } => {
            let account = account_for(ctx, &serial).await?;
            let session = ctx.console.session(&account)?;
            let ota = session
                .vicohome()
                .ok_or_else(|| ApiError::internal("no Vicohome client for this account"))?;
            let status = ota.ota_status(&serial).await?;
            let sample = ota_core::progress::vicohome_sample(
                status.ota_status,
                status.transferred,
                status.total,
                0,
            );
            if json {
                print_json(&serde_json::json!({
                    "serial": status.serial,
                    "inProgress": status.in_progress,
                    "otaStatus": status.ota_status,
                    "percent": sample.percent,
                    "phase": sample.phase.as_str(),
                    "transferred": status.transferred,
                    "total": status.total,
                    "error": status.error,
                }))?;
            } else {
                println!(
                    "{}  otaStatus {} ({}) {}% · {}",
                    status.serial,
                    status.ota_status,
                    sample.phase.as_str(),
                    sample.percent,
                    format_bytes_progress(status.transferred, status.total)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
