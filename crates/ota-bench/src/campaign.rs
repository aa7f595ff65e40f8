//! A 100 000-camera campaign against the simulator on a fast clock, in three processes: the simulator
//! (this binary with `--serve-sim`), this one, which sets the campaign up (fleet listed into the cache,
//! firmware published, campaign created), and the campaign runner (this binary with `--run-campaign`),
//! whose CPU time and peak memory are then the runner's own, as when `otactl campaign run` runs it.
//!
//! The baseline for wall time is what the campaign's request-rate cap allows: the requests the simulator
//! served divided by the rate. While the campaign runs, a thread of the runner's process reads the
//! dashboard the way the window does (the dashboard and the first page of devices) and each read is
//! timed; the same reads on the finished campaign are their idle baseline.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ota_core::campaign::model::{
    CampaignDeviceQuery, CampaignSettings, CampaignState, CampaignTargets, DeviceKey, NewCampaign,
};
use ota_core::campaign::{self, runner};
use ota_core::jobs::JobOptions;
use ota_core::library::{self, NewFirmware};
use ota_core::{Cloud, Console, DeviceQuery, Keychain, Store};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

use crate::probe::{self, Latencies, Probe, Query};
use crate::report::{Report, Row};
use crate::sys;

pub(crate) const TIME_SCALE: f64 = 2_000.0;

/// One campaign run: how many cameras, how many at once, and the request-rate cap.
struct Scale {
    devices: usize,
    concurrency: u32,
    /// The campaign's `requests_per_second`. At ~3 requests a camera, 5 000/s takes 100 000 cameras through
    /// in about a minute (at the 1 500/s of earlier runs it would take over three, a fifth of the whole
    /// bench's budget). The simulator has no rate limit of its own, and the clients none for loopback, so
    /// the cap is the campaign's.
    rate: f64,
}

const FULL: Scale = Scale {
    devices: 100_000,
    concurrency: 512,
    rate: 5_000.0,
};
const QUICK: Scale = Scale {
    devices: 2_000,
    concurrency: 512,
    rate: 5_000.0,
};

/// The window reads the dashboard and its page of devices every 2 s while a campaign runs; the probe
/// reads four times as often, for more samples.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// The window's page of campaign devices (`ui/src/components/CampaignDevices.tsx`).
const DEVICE_PAGE: u32 = 200;
/// A target given in MB (10^6 bytes), compared in MiB.
const MEMORY_TARGET_MB: f64 = 300.0;
const DASHBOARD_TARGET_MS: f64 = 50.0;
const CPU_TARGET_MS: f64 = 0.5;

/// `ota-bench --serve-sim DEVICES [SLOW_MS]`: serves a simulator and prints its URL (for the campaign
/// benches). `slow_delay` is how late its `slow` fault makes an answer; switched on for every device
/// (`slow:*`), it makes every cloud request that late (the team bench's per-request latency).
pub async fn serve_sim(devices: usize, slow_delay: Option<Duration>) -> anyhow::Result<()> {
    let defaults = ota_sim::SimConfig::default();
    let sim = ota_sim::spawn(
        ota_sim::SimConfig {
            devices,
            seed: 5,
            time_scale: TIME_SCALE,
            slow_delay: slow_delay.unwrap_or(defaults.slow_delay),
            ..defaults
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
    let scale = if quick { QUICK } else { FULL };
    let set_up_started = Instant::now();
    let sim = SimProcess::spawn(fleet_size(scale.devices), None).await?;
    let data = tempfile::tempdir()?;
    let id = set_up(&scale, data.path(), &sim.url).await?;
    let http = reqwest::Client::new();
    let calls_before = sim.last_call(&http).await?;
    // The log is kept small while the campaign runs; its sequence numbers go on.
    http.delete(format!("{}/_sim/log", sim.url))
        .send()
        .await?
        .error_for_status()?;
    let set_up = set_up_started.elapsed();

    let runner = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--run-campaign")
        .arg(data.path())
        .arg(&sim.url)
        .arg(id.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await?;
    anyhow::ensure!(
        runner.status.success(),
        "the campaign runner failed ({})",
        runner.status
    );
    let m: Value = serde_json::from_slice(&runner.stdout)?;
    let calls = sim.last_call(&http).await?.saturating_sub(calls_before);
    sim.close().await;

    let f = |key: &str| m[key].as_f64().unwrap_or(f64::NAN);
    let n = scale.devices as f64;
    let rate = scale.rate;
    let wall = f("wall_s");
    let bound = calls as f64 / rate;
    let ratio = wall / bound.max(1e-9);
    report.add(Row {
        what: format!(
            "Campaign: {} cameras, concurrency {}, 3 waves (wall)",
            scale.devices, scale.concurrency
        ),
        measured: format!("{wall:.1} s"),
        baseline: format!("{bound:.1} s ({calls} req at {rate}/s)"),
        ratio: Some(ratio),
        target: "≤ 1.10 × what the rate cap allows".into(),
        met: Some(ratio <= 1.10),
    });
    let per_device_ms = f("runner_cpu_s") * 1000.0 / n;
    report.add(Row {
        what: "Campaign runner CPU time per device (engine + HTTP + SQLite)".into(),
        measured: format!("{per_device_ms:.3} ms"),
        baseline: format!("{:.1} s CPU / {wall:.1} s wall", f("runner_cpu_s")),
        ratio: None,
        target: format!("< {CPU_TARGET_MS} ms"),
        met: Some(per_device_ms < CPU_TARGET_MS),
    });
    let peak_mb = f("peak_rss_mib") * 1.048_576;
    report.add(Row {
        what: "Campaign runner process memory (peak RSS)".into(),
        measured: format!("{peak_mb:.0} MB"),
        baseline: format!("{:.0} MB at its start", f("start_rss_mib") * 1.048_576),
        ratio: None,
        target: format!("< {MEMORY_TARGET_MB:.0} MB"),
        met: Some(peak_mb < MEMORY_TARGET_MB),
    });
    latency_row(
        report,
        "Campaign dashboard read while it runs (counts, waves, history, failures)",
        &m["dashboard"],
    );
    latency_row(
        report,
        &format!("Campaign devices, first page of {DEVICE_PAGE} with its count, while it runs"),
        &m["device_page"],
    );
    report.note(format!(
        "Campaign: {calls} requests for {} cameras ({:.1} a device: status read, start, status polls) at a \
         cap of {rate}/s; device state is written in one transaction per round of the coordinator, never \
         per request, and WAL with synchronous=NORMAL does not fsync on commit. The runner is a process \
         of its own (as `otactl campaign run`), so its CPU time and peak memory are its own. Setting the \
         campaign up (a simulator of {} devices, listing its cameras into the cache, creating the \
         campaign) took {:.1} s, outside the figures.",
        scale.devices,
        calls as f64 / n,
        fleet_size(scale.devices),
        set_up.as_secs_f64()
    ));
    report.note(format!(
        "Campaign dashboard: read every {} ms by another thread of the runner's process while the \
         campaign ran ({} reads, {:.1} s of CPU, left out of the runner's CPU time); the baseline is the \
         median of the same read on the finished campaign, on the same file.",
        PROBE_EVERY.as_millis(),
        m["dashboard"]["count"].as_u64().unwrap_or(0),
        f("probe_cpu_s")
    ));
    Ok(())
}

fn latency_row(report: &mut Report, what: &str, figures: &Value) {
    let ms = |key: &str| figures[key].as_f64().unwrap_or(f64::NAN);
    let (p95, worst, idle) = (ms("p95_ms"), ms("worst_ms"), ms("idle_ms"));
    report.add(Row {
        what: what.to_string(),
        measured: format!("{p95:.1} ms p95, {worst:.1} ms worst"),
        baseline: format!("{idle:.1} ms idle"),
        ratio: Some(p95 / idle.max(1e-3)),
        target: format!("< {DASHBOARD_TARGET_MS:.0} ms (every read)"),
        met: Some(figures["count"].as_u64().unwrap_or(0) > 0 && worst < DASHBOARD_TARGET_MS),
    });
}

/// The simulator's fleet for `cameras` eligible cameras: 4 in 10 of its devices are cameras, and 78 in 100
/// of those are online and charged (a margin for small fleets, where chance weighs more). Not many more:
/// Vicohome lists every camera of an account in one answer, and the client reads answers up to 32 MiB
/// (~139 000 cameras).
pub(crate) fn fleet_size(cameras: usize) -> usize {
    cameras * 33 / 10 + 2_000
}

/// The simulator in a child process, closed when dropped.
pub(crate) struct SimProcess {
    child: tokio::process::Child,
    pub url: String,
}

impl SimProcess {
    /// A simulator of `devices` on the campaign bench's clock; `slow_delay`: how late its `slow` fault
    /// makes an answer (default 3 s).
    pub async fn spawn(devices: usize, slow_delay: Option<Duration>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut args = vec!["--serve-sim".to_string(), devices.to_string()];
        if let Some(delay) = slow_delay {
            args.push(delay.as_millis().to_string());
        }
        let mut child = tokio::process::Command::new(exe)
            .args(&args)
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
        Ok(Self { child, url })
    }

    /// The sequence number of the last call the simulator served (it keeps counting when its log,
    /// which holds the last 100 000 calls, drops old ones).
    pub async fn last_call(&self, http: &reqwest::Client) -> anyhow::Result<u64> {
        let log = http
            .get(format!("{}/_sim/log", self.url))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(last_seq(&log))
    }

    pub async fn close(mut self) {
        drop(self.child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// The `seq` of the last entry of the simulator's call log (JSON, oldest first); 0 for an empty log.
fn last_seq(log: &str) -> u64 {
    const KEY: &str = "\"seq\":";
    log.rfind(KEY)
        .map(|at| {
            log[at + KEY.len()..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// The console on the bench's data folder, with the simulator's sandbox accounts (their secrets are
/// kept in memory only, so every process attaches them).
async fn console_in(data: &Path, sim_url: &str) -> anyhow::Result<Arc<Console>> {
    let console = Arc::new(
        Console::new(
            Store::open_in(data)?,
            Arc::new(Keychain::new("ota-console-bench")),
            Arc::new(ota_clouds::CloudConnector::default()),
        )
        .with_job_options(JobOptions::scaled(TIME_SCALE)),
    );
    ota_clouds::sandbox::attach(&console, sim_url).await?;
    Ok(console)
}

/// Lists the cameras, publishes a version for them and creates the campaign; returns its id.
async fn set_up(scale: &Scale, data: &Path, sim_url: &str) -> anyhow::Result<i64> {
    let console = console_in(data, sim_url).await?;
    let vicohome = console
        .accounts()?
        .into_iter()
        .find(|a| a.cloud == Cloud::Vicohome)
        .ok_or_else(|| anyhow::anyhow!("no Vicohome sandbox account"))?;
    let file = data.join("bench-fw.bin");
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
    // Publishing lists the account's cameras into the cache afterwards (only the cameras are
    // campaigned: the other clouds' devices need not be listed).
    library::publish_firmware(console.clone(), added.entry.id, vicohome.id).await?;
    let targets: Vec<DeviceKey> = console
        .store()
        .matching_devices(&DeviceQuery {
            cloud: Some(Cloud::Vicohome),
            ..Default::default()
        })?
        .into_iter()
        .filter(|d| d.online && d.battery.unwrap_or(100) >= 20)
        .take(scale.devices)
        .map(|d| DeviceKey {
            account_id: d.account_id,
            device_id: d.id,
        })
        .collect();
    anyhow::ensure!(
        targets.len() == scale.devices,
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
                concurrency: scale.concurrency,
                requests_per_second: scale.rate,
                failure_threshold_percent: 10.0,
                ..Default::default()
            },
            rules: None,
        },
    )?;
    Ok(created.id)
}

/// `ota-bench --run-campaign DATA SIM_URL ID`: starts and runs campaign `ID` of the bench's data folder
/// while a thread reads its dashboard, then prints what it measured (one JSON object) on stdout.
pub async fn run_campaign_process(args: &[String]) -> anyhow::Result<()> {
    let [data, sim_url, id] = args else {
        anyhow::bail!("usage: ota-bench --run-campaign DATA SIM_URL CAMPAIGN_ID");
    };
    let id: i64 = id.parse()?;
    let console = console_in(Path::new(data), sim_url).await?;
    let start_rss_mib = sys::rss_mib().unwrap_or(0.0);
    campaign::start(&console, id)?;
    let probe = Probe::start(dashboard_reads(&console, id), PROBE_EVERY);
    let cpu_before = sys::cpu_time();
    let started = Instant::now();
    let outcome = runner::run(console.clone(), id).await;
    let wall = started.elapsed();
    let cpu = sys::cpu_time().saturating_sub(cpu_before);
    let probed = probe.finish()?;
    let peak_rss_mib = sys::peak_rss_mib().unwrap_or(0.0);
    let done = outcome?;
    anyhow::ensure!(
        done.state == CampaignState::Completed,
        "the campaign ended {:?}: {:?}",
        done.state,
        done.reason
    );

    let mut idle = dashboard_reads(&console, id);
    let idle: Vec<Latencies> = idle
        .iter_mut()
        .map(|read| probe::repeat(20, read))
        .collect::<anyhow::Result<_>>()?;
    let latencies = |i: usize| {
        let (running, idle) = (&probed.latencies[i], &idle[i]);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        json!({
            "count": running.count(),
            "p95_ms": ms(running.percentile(95.0)),
            "worst_ms": ms(running.worst()),
            "idle_ms": ms(idle.median()),
        })
    };
    println!(
        "{}",
        json!({
            "wall_s": wall.as_secs_f64(),
            // The probe's reads are the window's work, not the runner's.
            "runner_cpu_s": cpu.saturating_sub(probed.cpu).as_secs_f64(),
            "probe_cpu_s": probed.cpu.as_secs_f64(),
            "start_rss_mib": start_rss_mib,
            "peak_rss_mib": peak_rss_mib,
            "dashboard": latencies(0),
            "device_page": latencies(1),
        })
    );
    Ok(())
}

/// What the window reads while a campaign runs: the dashboard, and the first page of its devices.
fn dashboard_reads(console: &Arc<Console>, id: i64) -> Vec<Query> {
    let dashboard = {
        let console = console.clone();
        Box::new(move || {
            campaign::dashboard(&console, id)?;
            Ok(())
        }) as Query
    };
    let device_page = {
        let console = console.clone();
        Box::new(move || {
            console.store().campaign_devices(
                id,
                &CampaignDeviceQuery {
                    limit: DEVICE_PAGE,
                    ..Default::default()
                },
            )?;
            Ok(())
        }) as Query
    };
    vec![dashboard, device_page]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_call_is_read_from_the_end_of_the_log() {
        let log = r#"[{"seq":7,"endpoint":"/a"},{"seq": 1234,"endpoint":"/b"}]"#;
        assert_eq!(last_seq(log), 1234);
        assert_eq!(last_seq("[]"), 0);
    }
}
