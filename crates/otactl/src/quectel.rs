//! `otactl quectel ...`: Quectel upgrade plans (confirm, appoint, cancel, retry, details), the auto-upgrade
//! switch and the Bluetooth flow. Devices are named by deviceKey; their productKey and account come from
//! the cached fleet (refreshed once when a device is not in it). The use-case layer (`ota_app::quectel`) does the
//! work (the window runs the same code); this module parses arguments and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use ota_app::quectel::{
    confirm_status, device_status, AutoUpgradeChange, BleReportStatus, QuectelPlanAction,
    QuectelPlanItem, QuectelWindow, UpgradePlan,
};
use ota_app::ApiError;

use crate::context::Context;
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum QuectelCommand {
    /// Upgrade plans of one device, or of every cached Quectel device.
    Plans {
        #[arg(long)]
        device: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Upgrade now.
    Confirm {
        /// deviceKey; repeat for a batch.
        #[arg(long = "device", required = true)]
        devices: Vec<String>,
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        json: bool,
    },
    /// Cancel the plan (it ends as failed).
    Cancel {
        #[arg(long = "device", required = true)]
        devices: Vec<String>,
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        json: bool,
    },
    /// Issue a failed plan again at once.
    Retry {
        #[arg(long = "device", required = true)]
        devices: Vec<String>,
        #[arg(long)]
        plan: i64,
        #[arg(long)]
        json: bool,
    },
    /// Upgrade inside a window: RFC 3339 times, inside the plan period, at least 1 hour apart.
    Appoint {
        #[arg(long = "device", required = true)]
        devices: Vec<String>,
        #[arg(long)]
        plan: i64,
        /// e.g. 2026-05-01T22:00:00+02:00
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
        #[arg(long)]
        json: bool,
    },
    /// A plan's status per device (every cached Quectel device of the account when no --device).
    Details {
        #[arg(long)]
        plan: i64,
        #[arg(long = "device")]
        devices: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// User auto-confirmation mode: new plans go to the device without asking.
    #[command(subcommand)]
    AutoUpgrade(AutoCommand),
    /// Bluetooth devices: the console carries the package.
    #[command(subcommand)]
    Ble(BleCommand),
}

#[derive(Debug, Subcommand)]
pub enum AutoCommand {
    Get {
        #[arg(long)]
        device: String,
        #[arg(long)]
        json: bool,
    },
    On {
        #[arg(long)]
        device: String,
    },
    Off {
        #[arg(long)]
        device: String,
    },
    /// Delete the device's setting (auto mode off).
    Delete {
        #[arg(long)]
        device: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BleCommand {
    /// The Bluetooth plan: version, package URL, size and SHA-256.
    Fetch {
        #[arg(long)]
        device: String,
        #[arg(long)]
        json: bool,
    },
    /// Report a step: confirmed, downloading, downloaded, installing, succeeded, failed-download,
    /// failed-checksum, failed-install, failed-low-battery, failed-disconnected, cancelled, failed-timeout,
    /// failed-unknown (or the code 0-12).
    Report {
        #[arg(long)]
        device: String,
        #[arg(long)]
        status: String,
        /// componentNo; defaults to the plan's.
        #[arg(long)]
        component: Option<String>,
    },
    /// Download the package into DIR; kept only when its SHA-256 matches the plan.
    Download {
        #[arg(long)]
        device: String,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn parse_time(label: &str, text: &str) -> Result<i64, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            ApiError::validation(format!("--{label} “{text}” is not an RFC 3339 time: {e}"))
                .with_hint("Write it like 2026-05-01T22:00:00Z or 2026-05-01T22:00:00+02:00.")
        })
}

fn iso(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".into())
}

fn plan_line(device_key: &str, plan: &UpgradePlan) -> String {
    let status = plan.device_status.unwrap_or(-2);
    let confirm = plan.user_confirm_status.unwrap_or(-2);
    let mut line = format!(
        "{device_key}  plan {}  “{}” → {}  {} {}%  {}  period {} .. {}",
        plan.plan_id.unwrap_or(0),
        plan.plan_name.as_deref().unwrap_or(""),
        plan.target_version().unwrap_or("?"),
        device_status::label(status),
        plan.percent(),
        confirm_status::label(confirm),
        iso(plan.plan_start_time),
        iso(plan.plan_end_time),
    );
    if plan.appoint_start_time.is_some() {
        line.push_str(&format!(
            "  window {} .. {}",
            iso(plan.appoint_start_time),
            iso(plan.appoint_end_time)
        ));
    }
    line
}

fn items(devices: &[String], plan_id: i64) -> Vec<QuectelPlanItem> {
    devices
        .iter()
        .map(|device_key| QuectelPlanItem {
            device_key: device_key.clone(),
            plan_id,
        })
        .collect()
}

async fn decide(
    ctx: &Context,
    devices: &[String],
    plan_id: i64,
    action: QuectelPlanAction,
    window: Option<QuectelWindow>,
    json: bool,
) -> Result<ExitCode, ApiError> {
    let decision = ctx
        .app
        .quectel_decide(&items(devices, plan_id), action, window)
        .await?;
    if json {
        print_json(&decision.outcome)?;
    } else {
        for result in &decision.results {
            match &result.error {
                None => println!("{}  ok", result.device_key),
                Some(error) => println!("{}  failed: {}", result.device_key, error.display_line()),
            }
        }
    }
    // Some devices took it and some did not: partly done. None did: the first refusal's kind.
    let refused = decision.results.iter().find(|r| !r.ok);
    Ok(match refused {
        None => ExitCode::SUCCESS,
        Some(_) if decision.results.iter().any(|r| r.ok) => crate::output::partial(),
        Some(r) => ExitCode::from(crate::output::exit_code_for(
            r.error
                .as_ref()
                .map_or(ota_app::ErrorKind::Device, |e| e.code),
        )),
    })
}

async fn plans(ctx: &Context, device: Option<String>, json: bool) -> Result<ExitCode, ApiError> {
    let found = ctx.app.quectel_plans(device.as_deref()).await?;
    if json {
        let plans: Vec<&UpgradePlan> = found.iter().map(|d| &d.plan).collect();
        print_json(&plans)?;
    } else if found.is_empty() {
        println!("No upgrade plans.");
    } else {
        for d in &found {
            println!("{}", plan_line(&d.device_key, &d.plan));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn details(
    ctx: &Context,
    plan_id: i64,
    devices: Vec<String>,
    json: bool,
) -> Result<ExitCode, ApiError> {
    let found = ctx.app.quectel_batch_details(plan_id, devices).await?;
    if json {
        print_json(&found)?;
    } else if found.is_empty() {
        println!("No device is part of plan {plan_id}.");
    } else {
        for plan in &found {
            println!(
                "{}",
                plan_line(plan.device_key.as_deref().unwrap_or("?"), plan)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn auto_upgrade(ctx: &Context, cmd: AutoCommand) -> Result<ExitCode, ApiError> {
    let (device, change, done) = match cmd {
        AutoCommand::Get { device, json } => {
            let state = ctx.app.quectel_auto_upgrade(&device).await?;
            let dk = &state.device_key;
            if json {
                print_json(&serde_json::json!({"deviceKey": dk, "autoUpgrade": state.on}))?;
            } else {
                println!("{dk}  auto-upgrade {}", if state.on { "on" } else { "off" });
            }
            return Ok(ExitCode::SUCCESS);
        }
        AutoCommand::On { device } => (device, AutoUpgradeChange::On, "auto-upgrade on"),
        AutoCommand::Off { device } => (device, AutoUpgradeChange::Off, "auto-upgrade off"),
        AutoCommand::Delete { device } => (
            device,
            AutoUpgradeChange::Delete,
            "auto-upgrade setting deleted (off)",
        ),
    };
    let state = ctx.app.quectel_change_auto_upgrade(&device, change).await?;
    println!("{}  {done}", state.device_key);
    Ok(ExitCode::SUCCESS)
}

async fn ble(ctx: &Context, cmd: BleCommand) -> Result<ExitCode, ApiError> {
    match cmd {
        BleCommand::Fetch { device, json } => {
            let (dk, plan) = ctx.app.quectel_ble_fetch(&device).await?;
            let dk = &dk;
            if json {
                print_json(&plan)?;
            } else if let Some(plan) = plan {
                println!(
                    "{dk}  plan {}  → {}  component {}  {} ({} bytes, SHA-256 {})",
                    plan.plan_id.unwrap_or(0),
                    plan.target_version.as_deref().unwrap_or("?"),
                    plan.component_no.as_deref().unwrap_or("?"),
                    plan.file_name.as_deref().unwrap_or("?"),
                    plan.file_size.unwrap_or(0),
                    plan.file_sign.as_deref().unwrap_or("?"),
                );
            } else {
                println!("{dk}  no Bluetooth plan");
            }
        }
        BleCommand::Report {
            device,
            status,
            component,
        } => {
            let status = BleReportStatus::parse(&status).ok_or_else(|| {
                let names: Vec<&str> = BleReportStatus::all().map(|s| s.name()).collect();
                ApiError::validation(format!(
                    "Unknown report status “{status}”; use one of {} or a code 0-12.",
                    names.join(", ")
                ))
            })?;
            let reported = ctx
                .app
                .quectel_ble_report(&device, status, component)
                .await?;
            println!(
                "{}  reported {} ({}: {})",
                reported.device_key,
                status.name(),
                status.code(),
                status.meaning()
            );
        }
        BleCommand::Download { device, dir, json } => {
            let package = ctx.app.quectel_ble_download_to(&device, &dir).await?;
            if json {
                print_json(&serde_json::json!({
                    "deviceKey": device,
                    "path": package.path,
                    "size": package.size,
                    "sha256": package.sha256,
                }))?;
            } else {
                println!(
                    "{device}  {} ({} bytes, SHA-256 verified {})",
                    package.path.display(),
                    package.size,
                    package.sha256
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(ctx: &Context, cmd: QuectelCommand) -> Result<ExitCode, ApiError> {
    match cmd {
        QuectelCommand::Plans { device, json } => plans(ctx, device, json).await,
        QuectelCommand::Confirm {
            devices,
            plan,
            json,
        } => decide(ctx, &devices, plan, QuectelPlanAction::Confirm, None, json).await,
        QuectelCommand::Cancel {
            devices,
            plan,
            json,
        } => decide(ctx, &devices, plan, QuectelPlanAction::Cancel, None, json).await,
        QuectelCommand::Retry {
            devices,
            plan,
            json,
        } => decide(ctx, &devices, plan, QuectelPlanAction::Retry, None, json).await,
        QuectelCommand::Appoint {
            devices,
            plan,
            start,
            end,
            json,
        } => {
            let start_ms = parse_time("start", &start)?;
            let end_ms = parse_time("end", &end)?;
            let window = QuectelWindow { start_ms, end_ms };
            decide(
                ctx,
                &devices,
                plan,
                QuectelPlanAction::Appoint,
                Some(window),
                json,
            )
            .await
        }
        QuectelCommand::Details {
            plan,
            devices,
            json,
        } => details(ctx, plan, devices, json).await,
        QuectelCommand::AutoUpgrade(cmd) => auto_upgrade(ctx, cmd).await,
        QuectelCommand::Ble(cmd) => ble(ctx, cmd).await,
    }
}
