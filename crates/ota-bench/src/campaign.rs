//! A 10 000-camera campaign at concurrency 256 against the simulator on a fast clock. The simulator runs
//! in a child process (this binary with `--serve-sim`), so this process's CPU time is the runner's own
//! (engine, HTTP client, SQLite). The baseline for wall time is what the campaign's request-rate cap
//! allows: the requests the simulator logged divided by the rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ota_core::campaign::model::{
    CampaignSettings, CampaignState, CampaignTargets, DeviceKey, NewCampaign,
};
use ota_core::campaign::{self, runner};
use ota_core::jobs::JobOptions;
use ota_core::library::{self, NewFirmware};
use ota_core::{Cloud, Console, DeviceQuery, Keychain, Store};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use crate::report::{Report, Row};
use crate::sys;

const TIME_SCALE: f64 = 2_000.0;
const CONCURRENCY: u32 = 256;
const RATE: f64 = 1_500.0;

/// `ota-bench --serve-sim DEVICES`: serves a simulator and prints its URL (for the campaign bench).
pub async fn serve_sim(devices: usize) -> anyhow::Result<()> {
    let sim = ota_sim::spawn(
        ota_sim::SimConfig {
            devices,
            seed: 5,
            time_scale: TIME_SCALE,
            ..Default::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    println!("{}", sim.url());
    // Until the parent closes our stdin (or dies).
    let mut line = String::new();
    let _ = tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await;
    sim.shutdown().await;
    Ok(())
}

pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let wanted: usize = if quick { 1_000 } else { 10_000 };
    // 4 in 10 devices are cameras and about 3 in 4 of those are online and charged.
    let fleet_size = wanted * 7 / 2;
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .args(["--serve-sim", &fleet_size.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut url = String::new();
    tokio::io::BufReader::new(stdout)
        .read_line(&mut url)
        .await?;
    let url = url.trim().to_string();
    anyhow::ensure!(url.starts_with("http"), "the simulator did not start");

    let data = tempfile::tempdir()?;
    let console = Arc::new(
        Console::new(
            Store::open_in(data.path())?,
            Arc::new(Keychain::new("ota-console-bench")),
            Arc::new(ota_clouds::CloudConnector::default()),
        )
        .with_job_options(JobOptions::scaled(TIME_SCALE)),
    );
    let accounts = ota_clouds::sandbox::attach(&console, &url).await?;
    console.refresh_fleet().await?;
    let vicohome = accounts
        .iter()
        .find(|a| a.cloud == Cloud::Vicohome)
        .ok_or_else(|| anyhow::anyhow!("no Vicohome sandbox account"))?;
    let file = data.path().join("bench-fw.bin");
    std::fs::write(&file, vec![1u8; 64 * 1024])?;
    let added = library::add_firmware(
        &console,
        &NewFirmware {
            path: file.display().to_string(),
            version: "99.0.0".into(),
            cloud: Cloud::Vicohome,
            model: None,
            notes: None,
        },
    )?;
    library::publish_firmware(console.clone(), added.entry.id, vicohome.id).await?;
    let targets: Vec<DeviceKey> = console
        .store()
        .matching_devices(&DeviceQuery {
            cloud: Some(Cloud::Vicohome),
            ..Default::default()
        })?
        .into_iter()
        .filter(|d| d.online && d.battery.unwrap_or(100) >= 20)
        .take(wanted)
        .map(|d| DeviceKey {
            account_id: d.account_id,
            device_id: d.id,
        })
        .collect();
    anyhow::ensure!(
        targets.len() == wanted,
        "only {} eligible cameras",
        targets.len()
    );
    let created = campaign::create(
        &console,
        &NewCampaign {
            name: "bench".into(),
            firmware_id: added.entry.id,
            targets: CampaignTargets::Devices { devices: targets },
            settings: CampaignSettings {
                waves: vec![1.0, 10.0, 100.0],
                concurrency: CONCURRENCY,
                requests_per_second: RATE,
                failure_threshold_percent: 10.0,
                ..Default::default()
            },
            rules: None,
        },
    )?;
    let http = reqwest::Client::new();
    http.delete(format!("{url}/_sim/log")).send().await?;

    // Peak memory while the campaign runs, sampled.
    let peak_kib = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak = peak_kib.clone();
        tokio::spawn(async move {
            loop {
                let now = (sys::rss_mib().unwrap_or(0.0) * 1024.0) as u64;
                peak.fetch_max(now, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let rss_before = sys::rss_mib().unwrap_or(0.0);
    campaign::start(&console, created.id)?;
    let cpu_before = sys::cpu_time();
    let started = Instant::now();
    let done = runner::run(console.clone(), created.id).await?;
    let wall = started.elapsed();
    let cpu = sys::cpu_time().saturating_sub(cpu_before);
    sampler.abort();
    anyhow::ensure!(
        done.state == CampaignState::Completed,
        "the campaign ended {:?}: {:?}",
        done.state,
        done.reason
    );

    let log: Value = http
        .get(format!("{url}/_sim/log"))
        .send()
        .await?
        .json()
        .await?;
    let calls = log.as_array().map(Vec::len).unwrap_or(0) as f64;
    let bound = Duration::from_secs_f64(calls / RATE);
    let ratio = wall.as_secs_f64() / bound.as_secs_f64().max(1e-9);
    let n = wanted as f64;
    report.add(Row {
        what: format!("Campaign: {wanted} cameras, concurrency {CONCURRENCY}, 3 waves (wall)"),
        measured: format!("{:.1} s", wall.as_secs_f64()),
        baseline: format!(
            "{:.1} s ({} req at {RATE}/s)",
            bound.as_secs_f64(),
            calls as u64
        ),
        ratio: Some(ratio),
        target: "≤ 1.10 × what the rate cap allows".into(),
        met: Some(ratio <= 1.10),
    });
    let per_device_ms = cpu.as_secs_f64() * 1000.0 / n;
    report.add(Row {
        what: "Campaign runner CPU time per device (engine + HTTP + SQLite)".into(),
        measured: format!("{per_device_ms:.3} ms"),
        baseline: format!(
            "{:.1} s CPU / {:.1} s wall",
            cpu.as_secs_f64(),
            wall.as_secs_f64()
        ),
        ratio: None,
        target: "< 1 ms".into(),
        met: Some(per_device_ms < 1.0),
    });
    let peak = peak_kib.load(Ordering::Relaxed) as f64 / 1024.0;
    report.add(Row {
        what: "Campaign process memory (peak RSS while running)".into(),
        measured: format!("{peak:.0} MiB"),
        baseline: format!("{rss_before:.0} MiB before"),
        ratio: None,
        target: "< 200 MB".into(),
        met: Some(peak < 190.0),
    });
    report.note(format!(
        "Campaign: {} requests for {wanted} cameras ({:.1} a device: status read, start, status polls); \
         device state is written in one transaction per round of the coordinator, never per request, and \
         WAL with synchronous=NORMAL does not fsync on commit.",
        calls as u64,
        calls / n
    ));
    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    Ok(())
}
