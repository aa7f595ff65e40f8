//! `otactl`: OTA Console on the command line. It opens the same store and keychain as the window.

mod accounts;
mod audit;
mod campaign;
mod cohort;
mod context;
mod devices;
mod firmware;
mod fleet;
mod onenet;
mod output;
mod quectel;
mod serve;
mod vicohome;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "otactl",
    version,
    about = "Firmware updates over the air for Vicohome, OneNET and Quectel devices"
)]
pub struct Cli {
    /// Run against an in-process simulator of the three clouds (default seed), like the app's sandbox.
    #[arg(long, global = true, conflicts_with = "sim_url")]
    sandbox: bool,
    /// Run against a running `ota-sim` at this URL.
    #[arg(long, global = true, value_name = "URL")]
    sim_url: Option<String>,
    /// The data folder (store); defaults to the app's.
    #[arg(long, global = true, value_name = "DIR", env = "OTA_CONSOLE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Run the command against this account only.
    #[arg(long, global = true, value_name = "NAME")]
    account: Option<String>,
    /// Team mode: the shared PostgreSQL (postgres://user@host:5432/db) instead of the data folder's
    /// SQLite file. Its password comes from the keychain entry for the URL (or the URL itself).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "OTA_CONSOLE_DATABASE_URL"
    )]
    database: Option<String>,
    /// On a server without a Secret Service: the folder of credentials (`account-<id>`, `team-database`;
    /// mode 0600), read when the keychain has no entry. systemd's LoadCredential= sets it.
    #[arg(long, global = true, value_name = "DIR", env = "CREDENTIALS_DIRECTORY")]
    credentials_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the campaign's many flags make its variant large, which costs nothing here.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Cloud accounts (credentials go to the OS keychain).
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// The device fleet (and its local tags).
    #[command(subcommand)]
    Devices(devices::DevicesCommand),
    /// Cohorts: saved groups of devices (a list, or a filter) that campaigns target.
    #[command(subcommand)]
    Cohort(cohort::CohortCommand),
    /// Vicohome camera updates.
    #[command(subcommand)]
    Vicohome(vicohome::VicohomeCommand),
    /// Quectel upgrade plans, auto-upgrade and Bluetooth updates.
    #[command(subcommand)]
    Quectel(quectel::QuectelCommand),
    /// OneNET device-side OTA: token, task check, package fetch, result reports.
    #[command(subcommand)]
    Onenet(onenet::OnenetCommand),
    /// The fleet as a whole: firmware versions per model, success per version, failures per day.
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// The firmware library: add, list, delete, publish.
    #[command(subcommand)]
    Firmware(firmware::FirmwareCommand),
    /// Fleet campaigns: waves, concurrency, failure threshold, maintenance window, retries.
    #[command(subcommand)]
    Campaign(Box<campaign::CampaignCommand>),
    /// The audit log of every change made to a cloud or the library.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Webhooks: campaign events POSTed as signed JSON to your URLs.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Run every running campaign until SIGTERM or SIGINT (several `serve` share them by lease), with
    /// Prometheus metrics on `--metrics ADDR`.
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Every subcommand that can print JSON takes `--json`; a failure then answers in JSON too.
    let json = std::env::args_os().skip(1).any(|arg| arg == "--json");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => output::fail(&err, json),
    }
}

async fn run(cli: Cli) -> Result<ExitCode, ota_app::ApiError> {
    if let Command::Onenet(cmd) = &cli.command {
        if let Some(done) = onenet::run_local(cmd) {
            return done;
        }
    }
    let ctx = context::Context::open(&cli).await?;
    match cli.command {
        Command::Accounts(cmd) => accounts::run(&ctx, cmd).await,
        Command::Devices(cmd) => devices::run(&ctx, cmd).await,
        Command::Cohort(cmd) => cohort::run(&ctx, cmd).await,
        Command::Vicohome(cmd) => vicohome::run(&ctx, cmd).await,
        Command::Quectel(cmd) => quectel::run(&ctx, cmd).await,
        Command::Onenet(cmd) => onenet::run(&ctx, cmd).await,
        Command::Firmware(cmd) => firmware::run(&ctx, cmd).await,
        Command::Fleet(cmd) => fleet::run(&ctx, cmd).await,
        Command::Campaign(cmd) => campaign::run(&ctx, *cmd).await,
        Command::Audit(cmd) => audit::run(&ctx, cmd).await,
        Command::Webhooks(cmd) => webhooks::run(&ctx, cmd).await,
        Command::Serve(args) => serve::run(&ctx, args).await,
    }
}
