//! What the OneNET client puts on the wire, seen by a scripted server: `Content-Type:
//! application/json` and a product token on every call, and the reports in the documented order
//! (101 after a verified download, 107 — a download-phase code — after one that fails its MD5).

mod fake;

use std::time::Duration;

use fake::{Fake, Reply, Seen};
use md5::{Digest, Md5};
use ota_clouds::http::{build_client, BaseUrl, HttpConfig};
use ota_clouds::onenet::fetch::{self, FetchOptions, PauseSignal};
use ota_clouds::onenet::OnenetClient;
use ota_clouds::RetryPolicy;
use ota_core::cloud::Credentials;
use ota_core::onenet::{OnenetDeviceRef, OnenetTaskType};
use ota_core::Secret;
use serde_json::json;

const TOKEN: &str = "ota_iF0hnXrq2CxLrP8vZ39l";
const PACKAGE: &str = "firmware bytes, 32 of them, v2.0";

fn ok(data: serde_json::Value) -> Reply {
    Reply::json(json!({"errno": 0, "error": "succ", "data": data}))
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fake OneNET that hands out one task for `PACKAGE` and serves `served` as its file.
async fn onenet(served: &str) -> Fake {
    let fake = Fake::start().await;
    let task = json!({"target": "V2", "token": TOKEN, "size": PACKAGE.len(), "md5": md5_hex(PACKAGE.as_bytes()),
        "signal": 10, "power": 50, "retry": 0, "interval": 0, "type": 1});
    fake.default("/_sim/onenet/devices", ok(json!({"devices": []})));
    fake.default("/ota/south/check", ok(task.clone()));
    fake.default("/ota/south/tasking", ok(task));
    fake.default(
        &format!("/ota/south/download/{TOKEN}/check"),
        ok(json!(null)),
    );
    fake.default(
        &format!("/ota/south/download/{TOKEN}"),
        Reply::status(200, served),
    );
    fake.default("/ota/south/report", ok(json!(null)));
    fake
}

fn client(fake: &Fake) -> OnenetClient {
    OnenetClient::new(
        build_client(&HttpConfig::default()).unwrap(),
        BaseUrl::parse(&fake.url()).unwrap(),
        Credentials {
            username: Some("245528".into()),
            secret: Secret::new("b25lbmV0LXRlc3QtYWNjZXNzLWtleS0wMDAx"),
        },
        RetryPolicy::none(),
    )
    .unwrap()
}

fn device() -> OnenetDeviceRef {
    OnenetDeviceRef {
        dev_id: "527776559".into(),
        manuf: Some("102".into()),
        model: Some("10201".into()),
        version: "V1".into(),
        task_type: OnenetTaskType::Application,
    }
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
    let fake = onenet(PACKAGE).await;
    let client = client(&fake);
    client.list_devices().await.unwrap();
    let task = client.check_task(&device()).await.unwrap().unwrap();
    assert!(client.task_in_progress(&device()).await.unwrap().is_some());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fw.bin");
    fetch::fetch(
        &client,
        &task,
        &out,
        &options(),
        PauseSignal::never(),
        &mut |_| {},
    )
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
    let fake = onenet("firmware bytes, 32 of them, v2.1").await;
    let client = client(&fake);
    let task = client.check_task(&device()).await.unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fw.bin");
    let err = fetch::fetch(
        &client,
        &task,
        &out,
        &options(),
        PauseSignal::never(),
        &mut |_| {},
    )
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
    let err = fetch::fetch(
        &client,
        &task,
        &out,
        &quiet,
        PauseSignal::never(),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("107 not reported"), "{}", err.message);
    assert_eq!(reports(&fake).len(), 1);
}
