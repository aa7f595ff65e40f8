//! `ota-sim`: runs the cloud simulator until killed. Prints exactly one line to stdout,
//! `listening on http://ADDR`, once it accepts connections; logs go to stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ota_sim::{FaultSpec, SimConfig};

#[derive(Debug, Parser)]
#[command(
    name = "ota-sim",
    version,
    about = "Simulator of the Vicohome, OneNET and Quectel clouds"
)]
struct Args {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Number of devices in the fleet.
    #[arg(long, default_value_t = 120)]
    devices: usize,
    /// Fleet seed: the same seed and device count give the same fleet.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// A fault switched on from the start: KIND[:ID[:COUNT]] (ID "*" = every device). Repeatable.
    /// Kinds: offline, low_battery, slow, http_429, http_5xx, malformed_body, truncated_body,
    /// vico_general_error, vico_invalid_params, vico_no_update, download_fail, install_fail,
    /// token_expired, quectel_upgrade_fail, download_cut (a OneNET package download drops at the
    /// package's midpoint; once unless COUNT), corrupt_package (a OneNET package with one byte flipped),
    /// oversized_body (valid JSON padded past 32 MiB), clock_skew (OneNET's clock 2 h ahead: tokens
    /// look expired), stuck_in_progress (a camera's update never ends), version_unchanged (a camera's
    /// update ends "complete" but it keeps its firmware).
    #[arg(long = "fault", value_name = "KIND:ID")]
    faults: Vec<FaultSpec>,
    /// Session token lifetime in simulated seconds.
    #[arg(long, default_value_t = 24 * 3600)]
    token_ttl_secs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = SimConfig {
        devices: args.devices,
        seed: args.seed,
        time_scale: args.time_scale,
        faults: args.faults,
        token_ttl: Duration::from_secs(args.token_ttl_secs),
        ..SimConfig::default()
    };
    let handle = match ota_sim::spawn(config, args.listen).await {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("ota-sim: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {}", handle.url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Whoever started us stopped reading; keep serving anyway.
        tracing::warn!("stdout is closed");
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %err, "cannot wait for Ctrl-C; serving until killed");
        std::future::pending::<()>().await;
    }
    handle.shutdown().await;
    ExitCode::SUCCESS
}
