//! `otactl quectel ...`: Quectel upgrade plans (confirm, appoint, cancel, retry, details), the auto-upgrade
//! switch and the Bluetooth flow. Devices are named by deviceKey; their productKey and account come from
//! the cached fleet (refreshed once when a device is not in it).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use ota_clouds::quectel::plans::{confirm_status, device_status, BatchOutcome};
use ota_clouds::quectel::{BleReportStatus, PlanTarget, QuectelClient, UpgradePlan};
use ota_core::cloud::CloudSession;
use ota_core::store::CachedPlan;
use ota_core::{Account, ApiError, Cloud};

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

/// A device as the commands need it: where it lives and its productKey.
struct Located {
    account: Account,
    product_key: String,
    device_key: String,
}

fn quectel_accounts(ctx: &Context) -> Result<Vec<Account>, ApiError> {
    let accounts: Vec<Account> = ctx
        .scope
        .iter()
        .filter(|a| a.cloud == Cloud::Quectel)
        .cloned()
        .collect();
    if accounts.is_empty() {
        return Err(
            ApiError::not_found("No Quectel account is configured.").with_hint(
                "Add one with `otactl accounts add --cloud quectel ...`, or use --sandbox.",
            ),
        );
    }
    Ok(accounts)
}

/// The account and productKey of a deviceKey, from the cache (refreshed once when it is missing).
async fn locate(ctx: &Context, device_key: &str) -> Result<Located, ApiError> {
    let accounts = quectel_accounts(ctx)?;
    for attempt in 0..2 {
        let cached = ctx
            .console
            .store()
            .find_device(Cloud::Quectel, device_key)?;
        for device in cached {
            if let Some(account) = accounts.iter().find(|a| a.id == device.account_id) {
                let product_key = device.product_key.clone().ok_or_else(|| {
                    ApiError::not_found(format!("The cloud gave no productKey for {device_key}."))
                })?;
                return Ok(Located {
                    account: account.clone(),
                    product_key,
                    device_key: device_key.to_string(),
                });
            }
        }
        if attempt == 0 {
            ctx.console.refresh_accounts(&accounts).await?;
        }
    }
    Err(
        ApiError::not_found(format!("No Quectel account lists the device {device_key}."))
            .with_hint("Check the deviceKey, or name the account with --account."),
    )
}

/// Keeps the session alive while its client is borrowed.
struct Session(Arc<dyn CloudSession>);

impl Session {
    fn open(ctx: &Context, account: &Account) -> Result<Self, ApiError> {
        Ok(Self(ctx.console.session(account)?))
    }

    fn client(&self) -> Result<&QuectelClient, ApiError> {
        self.0
            .as_any()
            .and_then(|any| any.downcast_ref::<QuectelClient>())
            .ok_or_else(|| ApiError::internal("no Quectel client for this account"))
    }
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

/// Keeps the plans read in the store, for the window and for showing them offline. A cache that cannot
/// be written does not fail the command.
fn remember(ctx: &Context, account_id: i64, plans: &[&UpgradePlan]) {
    let now = ota_core::now_ms();
    let rows: Vec<CachedPlan> = plans
        .iter()
        .filter_map(|p| {
            Some(CachedPlan {
                account_id,
                device_id: p.device_key.clone()?,
                plan_id: p.plan_id?,
                plan_name: p.plan_name.clone().unwrap_or_default(),
                target_version: p.target_version().unwrap_or_default().to_string(),
                plan_start: p.plan_start_time,
                plan_end: p.plan_end_time,
                appoint_start: p.appoint_start_time,
                appoint_end: p.appoint_end_time,
                device_status: p.device_status.unwrap_or(device_status::NOT_UPGRADED),
                user_confirm_status: p.user_confirm_status.unwrap_or(confirm_status::UNCONFIRMED),
                progress: p.upgrade_progress.unwrap_or(0.0),
                refreshed_at: now,
            })
        })
        .collect();
    if let Err(err) = ctx.console.store().save_upgrade_plans(&rows) {
        tracing::warn!(error = %err, "could not cache the upgrade plans");
    }
}

/// Resolves devices and groups them by account, as plan targets.
async fn targets_by_account(
    ctx: &Context,
    devices: &[String],
    plan_id: i64,
) -> Result<BTreeMap<i64, (Account, Vec<PlanTarget>)>, ApiError> {
    let mut groups: BTreeMap<i64, (Account, Vec<PlanTarget>)> = BTreeMap::new();
    for device_key in devices {
        let located = locate(ctx, device_key).await?;
        groups
            .entry(located.account.id)
            .or_insert_with(|| (located.account.clone(), Vec::new()))
            .1
            .push(PlanTarget {
                product_key: located.product_key,
                device_key: located.device_key,
                plan_id,
            });
    }
    Ok(groups)
}

#[derive(Clone, Copy)]
enum Decision {
    Confirm,
    Cancel,
    Retry,
    Appoint { start_ms: i64, end_ms: i64 },
}

async fn decide(
    ctx: &Context,
    devices: &[String],
    plan_id: i64,
    decision: Decision,
    json: bool,
) -> Result<ExitCode, ApiError> {
    let mut all = BatchOutcome::default();
    for (_, (account, targets)) in targets_by_account(ctx, devices, plan_id).await? {
        let session = Session::open(ctx, &account)?;
        let client = session.client()?;
        let outcome = match decision {
            Decision::Confirm => client.confirm_upgrade(&targets).await?,
            Decision::Cancel => client.cancel_upgrade(&targets).await?,
            Decision::Retry => client.retry_upgrade(&targets).await?,
            Decision::Appoint { start_ms, end_ms } => {
                client.appoint_upgrade(&targets, start_ms, end_ms).await?
            }
        };
        let action = match decision {
            Decision::Confirm => "quectel.plan.confirm",
            Decision::Cancel => "quectel.plan.cancel",
            Decision::Retry => "quectel.plan.retry",
            Decision::Appoint { .. } => "quectel.plan.appoint",
        };
        for ok in &outcome.success_list {
            ctx.console.audit(
                action,
                Some(Cloud::Quectel),
                ok.device_key.as_deref(),
                &Ok(()),
            );
        }
        for failed in &outcome.fail_list {
            ctx.console.audit(
                action,
                Some(Cloud::Quectel),
                failed.device_key.as_deref(),
                &Err(failed.error()),
            );
        }
        all.success_list.extend(outcome.success_list);
        all.fail_list.extend(outcome.fail_list);
    }
    if json {
        print_json(&all)?;
    } else {
        for ok in &all.success_list {
            println!("{}  ok", ok.device_key.as_deref().unwrap_or("?"));
        }
        for failed in &all.fail_list {
            println!(
                "{}  failed: {}",
                failed.device_key.as_deref().unwrap_or("?"),
                failed.error().display_line()
            );
        }
    }
    Ok(if all.fail_list.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn plans(ctx: &Context, device: Option<String>, json: bool) -> Result<ExitCode, ApiError> {
    let located = match device {
        Some(device_key) => vec![locate(ctx, &device_key).await?],
        None => {
            let accounts = quectel_accounts(ctx)?;
            ctx.console.refresh_accounts(&accounts).await?;
            let mut all = Vec::new();
            for account in &accounts {
                let query = ota_core::DeviceQuery {
                    cloud: Some(Cloud::Quectel),
                    limit: 100_000,
                    ..Default::default()
                };
                for d in ctx.console.devices(&query)?.rows {
                    if d.account_id == account.id {
                        if let Some(product_key) = d.product_key.clone() {
                            all.push(Located {
                                account: account.clone(),
                                product_key,
                                device_key: d.id.clone(),
                            });
                        }
                    }
                }
            }
            all
        }
    };
    let mut found = Vec::new();
    for device in &located {
        let session = Session::open(ctx, &device.account)?;
        if let Some(plan) = session
            .client()?
            .get_plan(&device.product_key, &device.device_key)
            .await?
        {
            remember(ctx, device.account.id, &[&plan]);
            found.push((device.device_key.clone(), plan));
        }
    }
    if json {
        let plans: Vec<&UpgradePlan> = found.iter().map(|(_, p)| p).collect();
        print_json(&plans)?;
    } else if found.is_empty() {
        println!("No upgrade plans.");
    } else {
        for (device_key, plan) in &found {
            println!("{}", plan_line(device_key, plan));
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
    let devices = if devices.is_empty() {
        let accounts = quectel_accounts(ctx)?;
        let query = ota_core::DeviceQuery {
            cloud: Some(Cloud::Quectel),
            limit: 100_000,
            ..Default::default()
        };
        let mut cached: Vec<String> = ctx
            .console
            .devices(&query)?
            .rows
            .into_iter()
            .filter(|d| accounts.iter().any(|a| a.id == d.account_id))
            .map(|d| d.id)
            .collect();
        if cached.is_empty() {
            ctx.console.refresh_accounts(&accounts).await?;
            cached = ctx
                .console
                .devices(&query)?
                .rows
                .into_iter()
                .map(|d| d.id)
                .collect();
        }
        cached
    } else {
        devices
    };
    let mut found = Vec::new();
    for (_, (account, targets)) in targets_by_account(ctx, &devices, plan_id).await? {
        let session = Session::open(ctx, &account)?;
        let plans = session.client()?.batch_details(&targets).await?;
        remember(ctx, account.id, &plans.iter().collect::<Vec<_>>());
        found.extend(plans);
    }
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
    let device = match &cmd {
        AutoCommand::Get { device, .. }
        | AutoCommand::On { device }
        | AutoCommand::Off { device }
        | AutoCommand::Delete { device } => device.clone(),
    };
    let located = locate(ctx, &device).await?;
    let session = Session::open(ctx, &located.account)?;
    let client = session.client()?;
    let (pk, dk) = (&located.product_key, &located.device_key);
    match cmd {
        AutoCommand::Get { json, .. } => {
            let on = client.get_auto_upgrade(pk, dk).await?;
            if json {
                print_json(&serde_json::json!({"deviceKey": dk, "autoUpgrade": on}))?;
            } else {
                println!("{dk}  auto-upgrade {}", if on { "on" } else { "off" });
            }
        }
        AutoCommand::On { .. } | AutoCommand::Off { .. } | AutoCommand::Delete { .. } => {
            let (action, result, done) = match cmd {
                AutoCommand::On { .. } => (
                    "quectel.auto_upgrade.on",
                    client.set_auto_upgrade(pk, dk, true).await,
                    "auto-upgrade on",
                ),
                AutoCommand::Off { .. } => (
                    "quectel.auto_upgrade.off",
                    client.set_auto_upgrade(pk, dk, false).await,
                    "auto-upgrade off",
                ),
                _ => (
                    "quectel.auto_upgrade.delete",
                    client.delete_auto_upgrade(pk, dk).await,
                    "auto-upgrade setting deleted (off)",
                ),
            };
            ctx.console
                .audit(action, Some(Cloud::Quectel), Some(dk), &result);
            result?;
            println!("{dk}  {done}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn no_ble_plan(device_key: &str) -> ApiError {
    ApiError::not_found(format!(
        "Quectel has no open Bluetooth plan for {device_key}."
    ))
}

async fn ble(ctx: &Context, cmd: BleCommand) -> Result<ExitCode, ApiError> {
    let device = match &cmd {
        BleCommand::Fetch { device, .. }
        | BleCommand::Report { device, .. }
        | BleCommand::Download { device, .. } => device.clone(),
    };
    let located = locate(ctx, &device).await?;
    let session = Session::open(ctx, &located.account)?;
    let client = session.client()?;
    let (pk, dk) = (&located.product_key, &located.device_key);
    match cmd {
        BleCommand::Fetch { json, .. } => {
            let plan = client.fetch_plan(pk, dk).await?;
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
            status, component, ..
        } => {
            let status = BleReportStatus::parse(&status).ok_or_else(|| {
                let names: Vec<&str> = BleReportStatus::all().map(|s| s.name()).collect();
                ApiError::validation(format!(
                    "Unknown report status “{status}”; use one of {} or a code 0-12.",
                    names.join(", ")
                ))
            })?;
            let component = match component {
                Some(c) => c,
                None => client
                    .fetch_plan(pk, dk)
                    .await?
                    .and_then(|p| p.component_no)
                    .ok_or_else(|| no_ble_plan(dk))?,
            };
            client.report_status(pk, dk, &component, status).await?;
            println!(
                "{dk}  reported {} ({}: {})",
                status.name(),
                status.code(),
                status.meaning()
            );
        }
        BleCommand::Download { dir, json, .. } => {
            let plan = client
                .fetch_plan(pk, dk)
                .await?
                .ok_or_else(|| no_ble_plan(dk))?;
            let package = client.download_package(&plan, &dir).await?;
            if json {
                print_json(&serde_json::json!({
                    "deviceKey": dk,
                    "path": package.path,
                    "size": package.size,
                    "sha256": package.sha256,
                }))?;
            } else {
                println!(
                    "{dk}  {} ({} bytes, SHA-256 verified {})",
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
        } => decide(ctx, &devices, plan, Decision::Confirm, json).await,
        QuectelCommand::Cancel {
            devices,
            plan,
            json,
        } => decide(ctx, &devices, plan, Decision::Cancel, json).await,
        QuectelCommand::Retry {
            devices,
            plan,
            json,
        } => decide(ctx, &devices, plan, Decision::Retry, json).await,
        QuectelCommand::Appoint {
            devices,
            plan,
            start,
            end,
            json,
        } => {
            let start_ms = parse_time("start", &start)?;
            let end_ms = parse_time("end", &end)?;
            decide(
                ctx,
                &devices,
                plan,
                Decision::Appoint { start_ms, end_ms },
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
