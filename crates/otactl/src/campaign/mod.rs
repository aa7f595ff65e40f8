//! `otactl campaign`: create (with a pre-flight check), start / pause / resume / cancel, follow, retry the
//! failed devices, and read the dashboard. `start`, `resume` and `retry-failed` run the campaign in the
//! foreground until it ends or pauses (with `--detach` they only set it running, for `otactl serve`);
//! killed, the next `start` continues it where it stopped. While another process runs the campaign (holds
//! its lease), they follow it and say who runs it, and take it over when that runner ends or its lease
//! expires. While the window has the data folder open, they follow a
//! running campaign but set none running (`ota_app::startup::folder_lock`).

pub(crate) mod print;
mod spec;

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ota_app::campaigns::{CampaignDashboard, CampaignLease, CampaignStart, CampaignState};
use ota_app::ApiError;

use crate::context::Context;
use crate::output::{print_as, print_json, print_json_line};

use print::*;
use spec::*;

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// What a campaign would do: devices per wave and those left out, with why.
    Preflight {
        #[command(flatten)]
        spec: Spec,
        #[arg(long)]
        json: bool,
    },
    /// What a campaign would do if created and started now, creating nothing: devices per wave, when each
    /// wave can start at the earliest (start time, window, bake, gate), and the devices left out.
    Plan {
        #[command(flatten)]
        spec: Spec,
        /// Also save its settings and rules as this template (replacing one of that name).
        #[arg(long, value_name = "NAME")]
        save_template: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Create a campaign (checked first; not started).
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        spec: Spec,
        /// Also save its settings and rules as this template (replacing one of that name).
        #[arg(long, value_name = "NAME")]
        save_template: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The saved campaign templates (settings and rules), by name.
    Templates {
        #[arg(long)]
        json: bool,
    },
    /// Delete a campaign template.
    TemplateDelete { name: String },
    /// Start (or continue) a campaign and follow it until it ends or pauses.
    Start {
        id: i64,
        /// Print a JSON line per second instead of text.
        #[arg(long)]
        json: bool,
        /// Only set it running and return: `otactl serve` (or a later `campaign start`) runs it. The
        /// default in team mode (`--database`).
        #[arg(long, conflicts_with = "here")]
        detach: bool,
        /// Team mode: run it in this process (as on a desk) instead of leaving it to the runners.
        #[arg(long)]
        here: bool,
    },
    /// Nothing new starts; devices already updating are followed.
    Pause { id: i64 },
    /// Resume a paused campaign and follow it.
    Resume {
        id: i64,
        #[arg(long)]
        json: bool,
        /// Only set it running and return: `otactl serve` runs it. The default in team mode.
        #[arg(long, conflicts_with = "here")]
        detach: bool,
        /// Team mode: run it in this process instead of leaving it to the runners.
        #[arg(long)]
        here: bool,
    },
    /// Cancel: devices not started yet will not be.
    Cancel { id: i64 },
    /// Close a continuous campaign: no device joins any more; it completes once its devices are done.
    Close {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve a campaign created with --require-approval (refused to its creator: another user approves).
    Approve { id: i64 },
    /// Manual gate: let the campaign's next wave start once its current one passed (and baked).
    ApproveWave { id: i64 },
    /// Put the failed devices back in the queue and follow the campaign again.
    RetryFailed {
        id: i64,
        #[arg(long)]
        json: bool,
        /// Only queue them and set it running, and return: `otactl serve` runs it. The default in team
        /// mode.
        #[arg(long, conflicts_with = "here")]
        detach: bool,
        /// Team mode: run it in this process instead of leaving it to the runners.
        #[arg(long)]
        here: bool,
    },
    /// Counts per state and wave, pace, and failures grouped by reason.
    Status {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Every campaign, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// What to say when the campaign's runner changed (`None`: nothing, we started it ourselves).
fn runner_notice(id: i64, lease: &CampaignLease, followed_before: bool) -> Option<String> {
    if lease.is_this_process() {
        return followed_before
            .then(|| format!("campaign {id}: the previous runner stopped; running it here"));
    }
    Some(format!(
        "campaign {id} is run by {} (lease until {}); following",
        lease.describe(),
        clock(lease.expires_at)
    ))
}

/// Runs the campaign here until it stops, printing progress every second. While another process runs it,
/// this one follows, says who runs it, and takes over when that runner ends or stops renewing its lease.
async fn follow(ctx: &Context, id: i64, json: bool) -> Result<ExitCode, ApiError> {
    let app = ctx.app.clone();
    let handle = tokio::spawn(async move { app.run_campaign(id).await });
    let app = &ctx.app;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut last = String::new();
    let mut runner_seen: Option<String> = None;
    while !handle.is_finished() {
        ticker.tick().await;
        if let Some(lease) = app.campaign_run_by(id)? {
            if runner_seen.as_deref() != Some(lease.holder.as_str()) {
                if let Some(notice) = runner_notice(id, &lease, runner_seen.is_some()) {
                    // JSON lines stay on stdout alone.
                    if json {
                        eprintln!("{notice}");
                    } else {
                        println!("{notice}");
                    }
                }
                runner_seen = Some(lease.holder);
            }
        }
        let view = app.campaign(id)?;
        if json {
            print_json_line(&view)?;
        } else {
            let line = summary_line(&view);
            if line != last {
                println!("{line}");
                last = line;
            }
        }
    }
    let view = handle
        .await
        .map_err(|e| ApiError::internal(format!("the campaign runner stopped: {e}")))??;
    print_end(app.campaign_dashboard(id)?, json)?;
    Ok(match view.state {
        CampaignState::Completed | CampaignState::Paused => ExitCode::SUCCESS,
        _ => crate::output::partial(),
    })
}

/// Whether a started campaign is left to the runners: `--detach`, or team mode unless `--here`.
fn leave_to_runners(ctx: &Context, detach: bool, here: bool) -> bool {
    detach || (ctx.app.is_team_mode() && !here)
}

/// `--detach`: the campaign is running and left to a runner (`otactl serve`); says so and returns.
fn detached(ctx: &Context, id: i64, json: bool) -> Result<ExitCode, ApiError> {
    let view = ctx.app.campaign(id)?;
    print_as(json, &view, |v| {
        println!("{}", summary_line(v));
        println!("campaign {id} is running, left to a runner: `otactl serve` (or `otactl campaign start {id}`) runs it");
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print_end(dashboard: CampaignDashboard, json: bool) -> Result<(), ApiError> {
    if json {
        print_json_line(&dashboard)
    } else {
        print_dashboard(&dashboard);
        Ok(())
    }
}

pub async fn run(ctx: &Context, cmd: CampaignCommand) -> Result<ExitCode, ApiError> {
    let app = &ctx.app;
    match cmd {
        CampaignCommand::Preflight { spec, json } => {
            let new = new_campaign(ctx, String::new(), spec).await?;
            let p = app.campaign_preflight(&new)?;
            print_as(json, &p, print_preflight)?;
        }
        CampaignCommand::Plan {
            spec,
            save_template: template,
            json,
        } => {
            let new = new_campaign(ctx, String::new(), spec).await?;
            let plan = app.plan_campaign(&new)?;
            if let Some(name) = &template {
                save_template(ctx, name, &new, json)?;
            }
            print_as(json, &plan, print_plan)?;
        }
        CampaignCommand::Create {
            name,
            spec,
            save_template: template,
            json,
        } => {
            let new = new_campaign(ctx, name, spec).await?;
            let p = app.campaign_preflight(&new)?;
            let view = app.create_campaign(&new)?;
            if let Some(name) = &template {
                save_template(ctx, name, &new, json)?;
            }
            if json {
                print_json(&view)?;
            } else {
                print_preflight(&p);
                println!("created {}", summary_line(&view));
            }
        }
        CampaignCommand::Start {
            id,
            json,
            detach,
            here,
        } => match app.start_campaign(id).await? {
            CampaignStart::AlreadyFinished(view) => {
                // E.g. run again after a kill that came after the end: say where it stands.
                eprintln!("campaign #{id} is already {}", view.state.as_str());
                print_end(app.campaign_dashboard(id)?, json)?;
                return Ok(if view.state == CampaignState::Completed {
                    ExitCode::SUCCESS
                } else {
                    crate::output::partial()
                });
            }
            CampaignStart::Running(_) if leave_to_runners(ctx, detach, here) => {
                return detached(ctx, id, json)
            }
            CampaignStart::Running(_) => return follow(ctx, id, json).await,
        },
        CampaignCommand::Pause { id } => {
            println!("{}", summary_line(&app.pause_campaign(id)?));
        }
        CampaignCommand::Resume {
            id,
            json,
            detach,
            here,
        } => {
            let detach = leave_to_runners(ctx, detach, here);
            app.resume_campaign(id).await?;
            if detach {
                return detached(ctx, id, json);
            }
            return follow(ctx, id, json).await;
        }
        CampaignCommand::Cancel { id } => {
            println!("{}", summary_line(&app.cancel_campaign(id)?));
        }
        CampaignCommand::Close { id, json } => {
            let view = app.close_campaign(id)?;
            if json {
                print_json(&view)?;
            } else {
                println!("closed {}", summary_line(&view));
            }
        }
        CampaignCommand::Approve { id } => {
            println!("approved {}", summary_line(&app.approve_campaign(id)?));
        }
        CampaignCommand::ApproveWave { id } => {
            let view = app.approve_wave(id)?;
            println!(
                "wave {} approved: {}",
                view.wave_approved + 1,
                summary_line(&view)
            );
        }
        CampaignCommand::RetryFailed {
            id,
            json,
            detach,
            here,
        } => {
            let detach = leave_to_runners(ctx, detach, here);
            app.retry_failed_devices(id).await?;
            if detach {
                return detached(ctx, id, json);
            }
            return follow(ctx, id, json).await;
        }
        CampaignCommand::Status { id, json } => {
            let d = app.campaign_dashboard(id)?;
            print_as(json, &d, print_dashboard)?;
        }
        CampaignCommand::Templates { json } => {
            let list = app.campaign_templates()?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("No templates yet: `otactl campaign create … --save-template NAME`.");
            } else {
                for t in &list {
                    println!("{}: {}", t.name, template_words(t));
                }
            }
        }
        CampaignCommand::TemplateDelete { name } => {
            app.delete_campaign_template(&name)?;
            println!("deleted template “{}”", name.trim());
        }
        CampaignCommand::List { json } => {
            let list = app.campaigns()?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("No campaigns yet: `otactl campaign create --name N --firmware ID ...`.");
            } else {
                for v in &list {
                    println!("{}", summary_line(v));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
