//! A large OneNET package through the client (ranged chunks, MD5, durable offsets) against
//! `curl URL | md5sum` (the honest limit of a verified download) and plain `curl` on the same URL in
//! the same run; the bytes a resume after a cut at 50 % sends again; memory while it runs.

use std::time::Instant;

use ota_clouds::http::{build_client, BaseUrl};
use ota_clouds::onenet::fetch::{self, FetchOptions, PauseSignal};
use ota_clouds::onenet::token::{sign, Resource, TokenRequest};
use ota_clouds::onenet::OnenetClient;
use ota_clouds::RetryPolicy;
use ota_core::onenet::{OnenetDeviceRef, OnenetTaskType};
use ota_core::Cloud;
use serde_json::{json, Value};

use crate::report::{Report, Row};
use crate::sys;

const MIB: f64 = 1024.0 * 1024.0;

async fn get(url: &str) -> anyhow::Result<Value> {
    Ok(reqwest::get(url).await?.json().await?)
}

async fn post(url: &str, body: Value) -> anyhow::Result<Value> {
    Ok(reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await?
        .json()
        .await?)
}

pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let size: u64 = if quick { 16 << 20 } else { 64 << 20 };
    let sim = ota_sim::spawn(
        ota_sim::SimConfig {
            devices: 60,
            seed: 3,
            ..Default::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let url = sim.url();
    let account = ota_clouds::sandbox_accounts(&url)
        .await?
        .into_iter()
        .find(|a| a.cloud == Cloud::Onenet)
        .ok_or_else(|| anyhow::anyhow!("no OneNET sandbox account"))?;
    let product_id = account.credentials.username.clone().unwrap_or_default();
    let fleet = get(&format!("{url}/_sim/devices")).await?;
    let device = fleet
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|d| d["cloud"] == "onenet" && d["product_key"] == product_id.as_str())
        })
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no OneNET device"))?;
    let dev_id = device["id"].as_str().unwrap_or_default().to_string();
    let made = post(
        &format!("{url}/_sim/onenet/tasks"),
        json!({"dev_id": dev_id, "target": "B1", "size": size, "type": 2}),
    )
    .await?;
    let task_id = made["task_id"].clone();
    let header = sign(
        &account.credentials.secret,
        &TokenRequest::new(Resource::Product(product_id.clone())),
    )?;
    let client = OnenetClient::new(
        build_client(&Default::default())?,
        BaseUrl::parse(&url)?,
        account.credentials.clone(),
        RetryPolicy::none(),
    )?;
    let task = client
        .check_task(&OnenetDeviceRef {
            dev_id: dev_id.clone(),
            manuf: None,
            model: None,
            version: device["firmware"].as_str().unwrap_or("V1").to_string(),
            task_type: OnenetTaskType::Application,
        })
        .await?
        .ok_or_else(|| anyhow::anyhow!("the check found no task"))?;
    client.check_download_token(&dev_id, &task.token).await?;
    let dir = tempfile::tempdir()?;
    let download_url = format!("{url}/ota/south/download/{}?dev_id={dev_id}", task.token);

    // Rounds interleave the three, so a load that comes and goes on a shared machine meets them all.
    let runs = 5;
    let auth = format!("Authorization: {header}");
    let options = FetchOptions {
        report: false,
        ..FetchOptions::default()
    };
    let (mut piped_best, mut curl_best, mut ours_best) = (0.0f64, 0.0f64, 0.0f64);
    // CPU time spent on each kind of verified download (the in-process simulator included in both).
    let (mut piped_cpu, mut ours_cpu) = (0.0f64, 0.0f64);
    let rss_before = sys::rss_mib();
    let mut rss_growth = 0.0f64;
    for _ in 0..runs {
        // The honest limit of a verified download: the same bytes through curl into md5sum.
        let cpu = CpuTime::now();
        let took = curl_into_md5sum(&download_url, &auth, &task.md5).await?;
        piped_cpu += cpu.spent_ms();
        piped_best = piped_best.max(size as f64 / took);
        // Plain curl to a file: the network alone, no hash (a second figure).
        let took = curl_to_file(&download_url, &auth, &dir.path().join("curl.bin"), size).await?;
        curl_best = curl_best.max(size as f64 / took);

        let out = dir.path().join("ours.bin");
        let _ = std::fs::remove_file(&out);
        let cpu = CpuTime::now();
        let t = Instant::now();
        let mut peak = 0.0f64;
        let mut watch = |_p| {
            if let Some(now) = sys::rss_mib() {
                peak = peak.max(now);
            }
        };
        fetch::fetch(
            &client,
            &task,
            &out,
            &options,
            PauseSignal::never(),
            &mut watch,
        )
        .await?;
        let took = t.elapsed().as_secs_f64();
        ours_cpu += cpu.spent_ms();
        ours_best = ours_best.max(size as f64 / took);
        if let Some(before) = rss_before {
            rss_growth = rss_growth.max(peak - before);
        }
    }
    let ratio = ours_best / piped_best.max(1.0);
    report.add(Row {
        what: format!(
            "Download {} MiB OneNET package (client, MD5, durable offsets)",
            size >> 20
        ),
        measured: format!("{:.0} MiB/s", ours_best / MIB),
        baseline: format!("{:.0} MiB/s (curl | md5sum)", piped_best / MIB),
        ratio: Some(ratio),
        target: "≥ 0.90 of curl | md5sum".into(),
        met: Some(ratio >= 0.9),
    });
    report.note(format!(
        "download: plain curl to a file (no hash) {:.0} MiB/s; the client is {:.2}× of it; best of {runs} runs each",
        curl_best / MIB,
        ours_best / curl_best.max(1.0)
    ));
    if ours_cpu > 0.0 {
        report.note(format!(
            "download: CPU a run (simulator included): client {:.0} ms, curl | md5sum {:.0} ms; the client also writes the package to disk durably, which the pipe does not",
            ours_cpu / runs as f64,
            piped_cpu / runs as f64
        ));
    }
    report.note(format!(
        "download durability: each {} MiB chunk is fdatasync'ed, then its length recorded in .part.json, in the background with one chunk of slack (exactly at a pause or a cut); the whole file is fsync'ed before the MD5 decides; a crash loses at most the last two chunks, to download again, never yields a wrongly verified file",
        options.chunk_size >> 20
    ));
    report.add(Row {
        what: "Memory growth while downloading (streamed, not buffered)".into(),
        measured: format!("{rss_growth:.1} MiB"),
        baseline: format!("{} MiB package", size >> 20),
        ratio: Some(rss_growth / (size as f64 / MIB)),
        target: "flat: < 32 MiB whatever the size".into(),
        met: Some(rss_growth < 32.0),
    });

    // A cut at 50 %, then a resume: how much is sent twice.
    let served_before = get(&format!("{url}/_sim/onenet/tasks/{task_id}")).await?["bytes_served"]
        .as_u64()
        .unwrap_or(0);
    post(
        &format!("{url}/_sim/faults"),
        json!({"kind": "download_cut", "target": dev_id, "count": 1}),
    )
    .await?;
    let out = dir.path().join("resumed.bin");
    let cut = FetchOptions {
        max_retries: Some(0),
        chunk_size: 6 << 20,
        report: false,
        ..FetchOptions::default()
    };
    let first = fetch::fetch(
        &client,
        &task,
        &out,
        &cut,
        PauseSignal::never(),
        &mut |_| {},
    )
    .await;
    anyhow::ensure!(first.is_err(), "the cut did not happen");
    let saved = fetch::saved_offset(&out, &task);
    fetch::fetch(
        &client,
        &task,
        &out,
        &options,
        PauseSignal::never(),
        &mut |_| {},
    )
    .await?;
    let served_after = get(&format!("{url}/_sim/onenet/tasks/{task_id}")).await?["bytes_served"]
        .as_u64()
        .unwrap_or(0);
    let sent = served_after - served_before;
    let extra = sent.saturating_sub(size) as f64 / size as f64;
    report.add(Row {
        what: format!(
            "Resume after a cut at 50 % (cut at {:.1} MiB)",
            saved as f64 / MIB
        ),
        measured: format!("{:.2} % sent twice", extra * 100.0),
        baseline: format!("{} MiB package", size >> 20),
        ratio: None,
        target: "< 1 % extra bytes".into(),
        met: Some(extra < 0.01),
    });
    sim.shutdown().await;
    Ok(())
}

/// `curl -sS -f -H auth URL | md5sum`, timed; fails unless both exit cleanly and md5sum prints the
/// task's MD5 (so the baseline really verified the bytes). Returns the seconds it took.
async fn curl_into_md5sum(url: &str, auth: &str, md5: &str) -> anyhow::Result<f64> {
    use std::process::{Command, Stdio};
    let (url, auth, md5) = (url.to_string(), auth.to_string(), md5.to_lowercase());
    tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let mut curl = Command::new("curl")
            .args(["-sS", "-f", "-H", &auth, &url])
            .stdout(Stdio::piped())
            .spawn()?;
        let pipe = curl
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("curl has no stdout"))?;
        let hashed = Command::new("md5sum").stdin(pipe).output()?;
        let fetched = curl.wait()?;
        let took = t.elapsed().as_secs_f64();
        anyhow::ensure!(fetched.success(), "curl failed");
        anyhow::ensure!(hashed.status.success(), "md5sum failed");
        let printed = String::from_utf8_lossy(&hashed.stdout);
        let digest = printed.split_whitespace().next().unwrap_or_default();
        anyhow::ensure!(
            digest == md5,
            "curl | md5sum printed {digest}, not the task's {md5}"
        );
        Ok(took)
    })
    .await?
}

/// `curl -sS -f -o out -H auth URL`, timed; fails unless the whole file arrived.
async fn curl_to_file(
    url: &str,
    auth: &str,
    out: &std::path::Path,
    size: u64,
) -> anyhow::Result<f64> {
    let t = Instant::now();
    let status = tokio::process::Command::new("curl")
        .args(["-sS", "-f", "-o"])
        .arg(out)
        .args(["-H", auth, url])
        .status()
        .await?;
    let took = t.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "curl failed");
    anyhow::ensure!(
        std::fs::metadata(out)?.len() == size,
        "curl got a short file"
    );
    Ok(took)
}

/// User + system CPU time of this process and of the children it has waited for (curl, md5sum), from
/// /proc on Linux (zero elsewhere).
struct CpuTime(f64);

impl CpuTime {
    fn now() -> Self {
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
            return Self(0.0);
        };
        // Fields after the command name (which may contain spaces) start after the last ')'; utime,
        // stime, cutime and cstime are fields 14–17 (1-based), 11–14 after the state field, in ticks
        // of 10 ms.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks: f64 = (11..=14)
            .filter_map(|i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
            .sum();
        Self(ticks * 10.0)
    }

    fn spent_ms(&self) -> f64 {
        Self::now().0 - self.0
    }
}
