//! `otactl onenet ...`: OneNET device-side OTA on a device's behalf — sign a token, check for a task,
//! fetch the package (resumable, MD5-verified, 101 reported — or 107 and the bytes deleted when the MD5
//! does not match) and report results.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Subcommand, ValueEnum};
use ota_app::jobs::format_bytes_progress;
use ota_app::onenet::{
    self, saved_offset, DeviceOverrides, OnenetDownloadProgress, OnenetFetchEnd, OnenetPackageKind,
    OnenetTask, OnenetTaskType, TokenMethod, RESULT_CODES,
};
use ota_app::{ApiError, Secret};

use crate::context::Context;
use crate::output::{print_json, print_json_line};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MethodArg {
    Md5,
    Sha1,
    Sha256,
}

impl From<MethodArg> for TokenMethod {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Md5 => TokenMethod::Md5,
            MethodArg::Sha1 => TokenMethod::Sha1,
            MethodArg::Sha256 => TokenMethod::Sha256,
        }
    }
}

/// The device a check or fetch acts for; the cached fleet fills in what is not given.
#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// The device's numeric id.
    #[arg(long)]
    dev_id: String,
    /// Manufacturer number (101 ESP32, 102 nrf52832, 103 GD32, 100 other).
    #[arg(long)]
    manuf: Option<String>,
    /// Chip number (e.g. 10201).
    #[arg(long)]
    model: Option<String>,
    /// The version the device runs now.
    #[arg(long)]
    version: Option<String>,
    /// 1 = module firmware (FOTA), 2 = application (SOTA).
    #[arg(long = "type", default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    task_type: u8,
}

#[derive(Debug, Subcommand)]
pub enum OnenetCommand {
    /// Print an `Authorization` value (OneNET security authentication), computed locally.
    Token {
        #[arg(long)]
        product_id: String,
        /// The base64 access key ("-" reads it from standard input, keeping it out of shell history).
        #[arg(long)]
        access_key: String,
        /// Sign for one device (`res=products/P/devices/NAME`) with that device's key.
        #[arg(long)]
        device: Option<String>,
        /// Expiry, Unix seconds (default: one hour from now).
        #[arg(long)]
        et: Option<u64>,
        #[arg(long, value_enum, default_value = "sha1")]
        method: MethodArg,
    },
    /// Ask OneNET whether the device has an upgrade task.
    Check {
        #[command(flatten)]
        device: DeviceArgs,
        #[arg(long)]
        json: bool,
    },
    /// Download the task's package to a file: resumes a partial download, verifies the MD5, reports
    /// 101 (or deletes the bytes and reports 107, "download failed", when the MD5 does not match).
    Fetch {
        #[command(flatten)]
        device: DeviceArgs,
        #[arg(long)]
        out: PathBuf,
        /// Do not report the download's result, 101 / 107 (a dry run of the download).
        #[arg(long)]
        no_report: bool,
        #[arg(long)]
        json: bool,
    },
    /// Report a result code for a task (after flashing: 201, or one of 202–208). OneNET takes them in
    /// order: one 1xx while downloading, then a 2xx; anything else is refused (errno 21).
    Report {
        #[arg(long)]
        dev_id: String,
        /// The task's download token (from `check`).
        #[arg(long)]
        token: String,
        #[arg(long)]
        result: u16,
        #[arg(long)]
        json: bool,
    },
    /// The result codes and what they mean.
    Results {
        #[arg(long)]
        json: bool,
    },
}

/// The commands that need neither the store nor a cloud: they run before anything is opened.
pub fn run_local(cmd: &OnenetCommand) -> Option<Result<ExitCode, ApiError>> {
    match cmd {
        OnenetCommand::Token {
            product_id,
            access_key,
            device,
            et,
            method,
        } => Some(print_token(
            product_id,
            access_key,
            device.as_deref(),
            *et,
            *method,
        )),
        OnenetCommand::Results { json } => Some(print_results(*json)),
        _ => None,
    }
}

fn print_results(json: bool) -> Result<ExitCode, ApiError> {
    if json {
        print_json(&onenet::result_codes())?;
    } else {
        for entry in RESULT_CODES {
            println!("{}  {}", entry.code, entry.meaning);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(ctx: &Context, cmd: OnenetCommand) -> Result<ExitCode, ApiError> {
    if let Some(done) = run_local(&cmd) {
        return done;
    }
    match cmd {
        OnenetCommand::Check { device, json } => {
            let task = find_task(ctx, &device).await?;
            match (task, json) {
                (Some(task), true) => print_json(&task)?,
                (Some(task), false) => print_task(&task),
                (None, true) => print_json(&serde_json::Value::Null)?,
                (None, false) => println!(
                    "No upgrade task of type {} for device {}.",
                    device.task_type, device.dev_id
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        OnenetCommand::Fetch {
            device,
            out,
            no_report,
            json,
        } => fetch(ctx, device, out, no_report, json).await,
        OnenetCommand::Report {
            dev_id,
            token,
            result,
            json,
        } => {
            let answer = ctx.app.onenet_report(&dev_id, &token, result).await?;
            if json {
                print_json(&answer)?;
            } else {
                println!("{}", answer.message);
            }
            Ok(ExitCode::SUCCESS)
        }
        OnenetCommand::Token { .. } | OnenetCommand::Results { .. } => Ok(ExitCode::SUCCESS),
    }
}

fn print_token(
    product_id: &str,
    access_key: &str,
    device: Option<&str>,
    et: Option<u64>,
    method: MethodArg,
) -> Result<ExitCode, ApiError> {
    let key = if access_key == "-" {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| ApiError::validation(format!("cannot read the access key: {e}")))?;
        Secret::new(line.trim())
    } else {
        Secret::new(access_key)
    };
    println!(
        "{}",
        onenet::sign_token(product_id, &key, device, et, method.into())?
    );
    Ok(ExitCode::SUCCESS)
}

async fn find_task(ctx: &Context, args: &DeviceArgs) -> Result<Option<OnenetTask>, ApiError> {
    let task_type =
        OnenetTaskType::from_code(i64::from(args.task_type)).unwrap_or(OnenetTaskType::Application);
    let overrides = DeviceOverrides {
        manuf: args.manuf.clone(),
        model: args.model.clone(),
        version: args.version.clone(),
    };
    ctx.app
        .onenet_find_task(&args.dev_id, task_type, overrides)
        .await
}

fn print_task(task: &OnenetTask) {
    let package = match task.package {
        OnenetPackageKind::Full => "full package",
        OnenetPackageKind::Diff => "difference package",
    };
    println!(
        "Upgrade task for device {}: version {} ({package})",
        task.dev_id, task.target_version
    );
    println!("  size   {} bytes", task.size);
    println!("  md5    {}", task.md5);
    println!("  token  {}", task.token);
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    println!(
        "  needs  signal ≥ {}, battery ≥ {} %",
        opt(task.min_signal),
        opt(task.min_power)
    );
    println!(
        "  retry  {} times, {} s apart",
        opt(task.retry),
        opt(task.interval_secs)
    );
}

fn human_rate(bytes_per_sec: Option<f64>) -> String {
    match bytes_per_sec {
        Some(r) if r >= 1024.0 * 1024.0 => format!("{:.1} MiB/s", r / (1024.0 * 1024.0)),
        Some(r) => format!("{:.0} KiB/s", r / 1024.0),
        None => "-".into(),
    }
}

fn progress_line(p: &OnenetDownloadProgress) -> String {
    let eta = p
        .eta_secs
        .map(|s| format!("  ETA {}s", s.ceil() as u64))
        .unwrap_or_default();
    format!(
        "{:?}  {}  {}{eta}",
        p.phase,
        format_bytes_progress(p.received, p.total),
        human_rate(p.bytes_per_sec)
    )
}

async fn fetch(
    ctx: &Context,
    args: DeviceArgs,
    out: PathBuf,
    no_report: bool,
    json: bool,
) -> Result<ExitCode, ApiError> {
    let Some(task) = find_task(ctx, &args).await? else {
        return Err(ApiError::not_found(format!(
            "Device {} has no upgrade task of type {}.",
            args.dev_id, args.task_type
        ))
        .with_hint("Create the task in the OneNET console (in the sandbox: the simulator's /_sim/onenet/tasks)."));
    };
    let resumed = saved_offset(&out, &task);
    if !json && resumed > 0 {
        eprintln!(
            "Resuming {} at {} of {} bytes.",
            out.display(),
            resumed,
            task.size
        );
    }
    let tty = std::io::stderr().is_terminal();
    let mut last_line = Instant::now() - Duration::from_secs(10);
    let mut on_progress = |p: OnenetDownloadProgress| {
        if json {
            return;
        }
        let now = Instant::now();
        if now.duration_since(last_line) < Duration::from_secs(1) && tty {
            return;
        }
        if !tty && now.duration_since(last_line) < Duration::from_secs(5) {
            return;
        }
        last_line = now;
        let mut err = std::io::stderr().lock();
        let _ = if tty {
            write!(err, "\r{:<70}", progress_line(&p))
        } else {
            writeln!(err, "{}", progress_line(&p))
        };
    };
    let ended = ctx
        .app
        .onenet_fetch_to(&task, &out, !no_report, &mut on_progress)
        .await;
    if tty && !json {
        eprintln!();
    }
    match ended? {
        OnenetFetchEnd::Done { outcome } => {
            if json {
                print_json(&outcome)?;
            } else {
                println!(
                    "Saved {} ({} bytes, MD5 {} verified{}).",
                    outcome.path,
                    outcome.size,
                    outcome.md5,
                    if outcome.resumed_from > 0 {
                        format!(", resumed at {}", outcome.resumed_from)
                    } else {
                        String::new()
                    }
                );
                println!("{}", outcome.report.message);
                let report = format!(
                    "otactl onenet report --dev-id {} --token {}",
                    task.dev_id, task.token
                );
                if outcome.report.accepted {
                    println!("After flashing, report the outcome: {report} --result 201");
                } else {
                    // OneNET refuses a 2xx until the download's 101 is in (errno 21).
                    println!(
                        "OneNET takes the upgrade's result only after the download's: {report} --result 101, then after flashing {report} --result 201"
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OnenetFetchEnd::Paused { progress: p } => {
            if json {
                print_json_line(&p)?;
            }
            // Stopped part-way; running the same command again resumes where it stopped.
            Ok(crate::output::partial())
        }
    }
}
