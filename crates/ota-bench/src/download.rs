//! A large OneNET package through the client (ranged chunks, MD5, durable offsets) against `curl` on the
//! same URL in the same run; the bytes a resume after a cut at 50 % sends again; memory while it runs.

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

    let runs = 3;
    let mut curl_best = 0.0f64;
    for _ in 0..runs {
        let out = dir.path().join("curl.bin");
        let t = Instant::now();
        let status = tokio::process::Command::new("curl")
            .args(["-sS", "-f", "-o"])
            .arg(&out)
            .args(["-H", &format!("Authorization: {header}"), &download_url])
            .status()
            .await?;
        let took = t.elapsed().as_secs_f64();
        anyhow::ensure!(status.success(), "curl failed");
        anyhow::ensure!(
            std::fs::metadata(&out)?.len() == size,
            "curl got a short file"
        );
        curl_best = curl_best.max(size as f64 / took);
    }
    let options = FetchOptions {
        report: false,
        ..FetchOptions::default()
    };
    let mut ours_best = 0.0f64;
    let rss_before = sys::rss_mib();
    let mut rss_growth = 0.0f64;
    for _ in 0..runs {
        let out = dir.path().join("ours.bin");
        let _ = std::fs::remove_file(&out);
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
        ours_best = ours_best.max(size as f64 / took);
        if let Some(before) = rss_before {
            rss_growth = rss_growth.max(peak - before);
        }
    }
    let ratio = ours_best / curl_best.max(1.0);
    report.add(Row {
        what: format!(
            "Download {} MiB OneNET package (client, MD5, durable offsets)",
            size >> 20
        ),
        measured: format!("{:.0} MiB/s", ours_best / MIB),
        baseline: format!("{:.0} MiB/s (curl)", curl_best / MIB),
        ratio: Some(ratio),
        target: "≥ 0.90 of curl".into(),
        met: Some(ratio >= 0.9),
    });
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
