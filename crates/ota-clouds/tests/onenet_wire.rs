//! What the OneNET client puts on the wire, seen by a scripted server: `Content-Type:
//! application/json` and a product token on every call, and the reports in the documented order
//! (101 after a verified download, 107 — a download-phase code — after one that fails its MD5).

mod common;
mod fake;

use std::time::Duration;

use common::onenet::fetch_unpaused;
use fake::onenet::{client, device, scripted, PACKAGE, TOKEN};
use fake::{Fake, Reply, Seen};
use ota_clouds::http::{build_client, HttpConfig};
use ota_clouds::onenet::fetch::FetchOptions;
use ota_clouds::onenet::OnenetClient;

/// The scripted OneNET serving `served` as the package of its task for `PACKAGE`, and its client.
async fn onenet(served: &str) -> (Fake, OnenetClient) {
    let fake = scripted(0, 0, Reply::status(200, served)).await;
    let client = client(&fake, build_client(&HttpConfig::default()).unwrap());
    (fake, client)
}

fn options() -> FetchOptions {
    FetchOptions {
        max_retries: Some(0),
        min_retry_wait: Duration::from_millis(10),
        ..FetchOptions::default()
    }
}

fn reports(fake: &Fake) -> Vec<String> {
    fake.calls("/ota/south/report")
        .into_iter()
        .map(|s: Seen| s.body)
        .collect()
}

#[tokio::test]
async fn every_onenet_call_declares_json_and_carries_a_token() {
    let (fake, client) = onenet(std::str::from_utf8(PACKAGE).unwrap()).await;
    client.list_devices().await.unwrap();
    let task = client.check_task(&device()).await.unwrap().unwrap();
    assert!(client.task_in_progress(&device()).await.unwrap().is_some());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fw.bin");
    fetch_unpaused(&client, &task, &out, &options())
        .await
        .unwrap();
    client.report(&task.dev_id, &task.token, 201).await.unwrap();

    let log = fake.log();
    let paths: Vec<&str> = log.iter().map(|s| s.path.as_str()).collect();
    for expected in [
        "/_sim/onenet/devices",
        "/ota/south/check",
        "/ota/south/tasking",
        "/ota/south/download/ota_iF0hnXrq2CxLrP8vZ39l/check",
        "/ota/south/download/ota_iF0hnXrq2CxLrP8vZ39l",
        "/ota/south/report",
    ] {
        assert!(paths.contains(&expected), "{expected} called: {paths:?}");
    }
    for seen in &log {
        assert_eq!(
            seen.content_type.as_deref(),
            Some("application/json"),
            "{} {}",
            seen.method,
            seen.path
        );
        assert!(
            seen.authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("version=2018-10-31&res=products%2F245528&")),
            "{} {}: {:?}",
            seen.method,
            seen.path,
            seen.authorization
        );
    }
    assert_eq!(reports(&fake), [r#"{"result":101}"#, r#"{"result":201}"#]);
}

#[tokio::test]
async fn a_package_that_fails_its_md5_is_reported_as_a_failed_download() {
    let (fake, client) = onenet("firmware bytes, 32 of them, v2.1").await;
    let task = client.check_task(&device()).await.unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fw.bin");
    let err = fetch_unpaused(&client, &task, &out, &options())
        .await
        .unwrap_err();
    assert_eq!(err.vendor_code.as_deref(), Some("result 107"));
    assert!(
        err.message
            .contains("107 (download failed) reported to OneNET"),
        "{}",
        err.message
    );
    assert_eq!(
        reports(&fake),
        [r#"{"result":107}"#],
        "one report, download phase"
    );
    let report = &fake.calls("/ota/south/report")[0];
    assert_eq!(report.query, format!("dev_id=527776559&token={TOKEN}"));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing left"
    );

    // Without reporting (a dry run), nothing is sent and the message says so.
    let quiet = FetchOptions {
        report: false,
        ..options()
    };
    let err = fetch_unpaused(&client, &task, &out, &quiet)
        .await
        .unwrap_err();
    assert!(err.message.contains("107 not reported"), "{}", err.message);
    assert_eq!(reports(&fake).len(), 1);
}
