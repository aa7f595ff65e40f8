//! OneNET device-side OTA: the client against the simulator on loopback — check, resumable ranged
//! download with MD5, reports and their refusals.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::onenet::{create_task, device_ref, fetch_unpaused, finished, md5_hex, sim_task};
use common::{fault, fleet_of, sandbox_account, sim_post};
use ota_clouds::onenet::fetch::{self, pause_switch, FetchEnd, FetchOptions};
use ota_clouds::onenet::OnenetClient;
use ota_clouds::RetryPolicy;
use ota_core::cloud::Credentials;
use ota_core::onenet::{OnenetDeviceRef, OnenetDownloadProgress, OnenetTask, OnenetTaskType};
use ota_core::{ApiError, Cloud, ErrorKind, Secret};
use ota_sim::SimHandle;
use serde_json::{json, Value};

const MIB: u64 = 1024 * 1024;

/// A sandbox OneNET product's credentials and one of its devices (dev_id, manuf, model, version), on a
/// simulator of its own, with the product's client.
struct Product {
    sim: SimHandle,
    credentials: Credentials,
    device: OnenetDeviceRef,
    client: OnenetClient,
}

async fn product() -> Product {
    let sim = common::sim(60, 5, 1.0).await;
    let account = sandbox_account(&sim, Cloud::Onenet).await;
    let product_id = account.credentials.username.clone().unwrap();
    let device = fleet_of(&sim, "onenet")
        .await
        .into_iter()
        .find(|d| d["product_key"] == product_id.as_str())
        .expect("a OneNET device of the product");
    let client = client(&sim, account.credentials.clone());
    Product {
        sim,
        credentials: account.credentials,
        device: device_ref(&device),
        client,
    }
}

/// The product with a task of `size` bytes for its device, found by the device's check: (product, the
/// simulator's task record, the task as checked).
async fn product_with_task(size: u64) -> (Product, Value, OnenetTask) {
    let product = product().await;
    let created = create_task(&product.sim, &product.device.dev_id, size).await;
    let task = product
        .client
        .check_task(&product.device)
        .await
        .unwrap()
        .expect("the check finds the task");
    (product, created, task)
}

fn client(sim: &SimHandle, credentials: Credentials) -> OnenetClient {
    OnenetClient::new(
        ota_clouds::http::build_client(&Default::default()).unwrap(),
        ota_clouds::http::BaseUrl::parse(&sim.url()).unwrap(),
        credentials,
        RetryPolicy::none(),
    )
    .unwrap()
}

/// Arms a one-shot fault of `kind` on the device `target`.
async fn fault_once(sim: &SimHandle, kind: &str, target: &str) {
    fault(sim, json!({"kind": kind, "target": target, "count": 1})).await;
}

fn md5_of(path: &Path) -> String {
    md5_hex(&std::fs::read(path).unwrap())
}

/// A product's task of `size` bytes, to fetch in 1 MiB chunks (so a pause or a drop comes between two)
/// to `out` in a fresh folder.
struct ChunkedFetch {
    product: Product,
    task: OnenetTask,
    _dir: tempfile::TempDir,
    out: PathBuf,
    options: FetchOptions,
}

/// The chunked fetch of a task of `size` bytes to `file` (a path under a fresh folder).
async fn chunked_fetch(size: u64, file: &str) -> ChunkedFetch {
    let (product, _, task) = product_with_task(size).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(file);
    let options = FetchOptions {
        chunk_size: MIB,
        ..FetchOptions::default()
    };
    ChunkedFetch {
        product,
        task,
        _dir: dir,
        out,
        options,
    }
}

/// A fetch that must end verified (no pause, no error).
async fn fetch_to_the_end(
    client: &OnenetClient,
    task: &OnenetTask,
    out: &Path,
    options: &FetchOptions,
) -> ota_core::onenet::OnenetFetchOutcome {
    finished(fetch_unpaused(client, task, out, options).await.unwrap())
}

#[tokio::test]
async fn a_64_mib_package_cut_at_half_resumes_with_only_the_rest_and_reports_101_then_201() {
    let size = 64 * MIB;
    let (product, created, task) = product_with_task(size).await;
    let (sim, client) = (&product.sim, &product.client);
    assert_eq!(task.size, size);
    assert_eq!(task.target_version, "V9.1");
    assert_eq!(task.md5, created["md5"].as_str().unwrap());

    fault_once(sim, "download_cut", &product.device.dev_id).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fw.bin");
    // 6 MiB chunks do not end on the midpoint, so the fault cuts exactly there.
    let no_retry = FetchOptions {
        max_retries: Some(0),
        chunk_size: 6 * MIB,
        ..FetchOptions::default()
    };
    let cut = fetch_unpaused(client, &task, &out, &no_retry)
        .await
        .unwrap_err();
    assert!(cut.message.contains("stopped at"), "{}", cut.message);
    assert!(
        !out.exists(),
        "nothing carries the real name before it is verified"
    );
    let saved = fetch::saved_offset(&out, &task);
    assert!(
        saved >= size / 2 - MIB && saved <= size / 2,
        "the cut came at half way: {saved}"
    );
    let served_before = sim_task(sim, &created["task_id"]).await["bytes_served"]
        .as_u64()
        .unwrap();

    // The next fetch (a new run, as after closing the app) resumes.
    let outcome = fetch_to_the_end(client, &task, &out, &FetchOptions::default()).await;
    assert_eq!(outcome.resumed_from, saved);
    assert_eq!(outcome.bytes_transferred, size - saved);
    assert_eq!(md5_of(&out), task.md5);
    assert_eq!(outcome.md5, task.md5);
    assert!(outcome.report.accepted, "{}", outcome.report.message);
    assert_eq!(outcome.report.code, 101);

    let after = sim_task(sim, &created["task_id"]).await;
    let served = after["bytes_served"].as_u64().unwrap();
    assert!(
        served - served_before <= (size - saved) + size / 100,
        "the resume sent only the rest: {} after {served_before}",
        served - served_before
    );
    assert!(
        served <= size + size / 100,
        "under 1 % extra bytes in all: {served}"
    );
    assert_eq!(after["state"], "upgrading");
    assert!(!fetch::partial_paths(&out).0.exists());
    assert!(!fetch::partial_paths(&out).1.exists());

    let answer = client.report(&task.dev_id, &task.token, 201).await.unwrap();
    assert_eq!(answer.message, "OneNET recorded 201: Upgrade succeeded.");
    assert_eq!(
        sim_task(sim, &created["task_id"]).await["state"],
        "succeeded"
    );

    let again = client
        .report(&task.dev_id, &task.token, 201)
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorKind::Conflict);
    assert_eq!(again.message, "The update task has already finished");
    assert_eq!(again.vendor_code.as_deref(), Some("errno 20"));
    product.sim.shutdown().await;
}

#[tokio::test]
async fn a_corrupted_package_reports_107_deletes_the_bytes_and_fails_the_task() {
    let (product, created, task) = product_with_task(3 * MIB + 17).await;
    let (sim, client) = (&product.sim, &product.client);
    fault_once(sim, "corrupt_package", &product.device.dev_id).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fw.bin");
    let err = fetch_unpaused(client, &task, &out, &FetchOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorKind::Device);
    assert_eq!(err.vendor_code.as_deref(), Some("result 107"));
    assert!(err.message.contains("deleted"), "{}", err.message);
    assert!(
        err.message
            .contains("107 (download failed) reported to OneNET"),
        "the strict simulator took the report: {}",
        err.message
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no file left behind: {left:?}");
    let after = sim_task(sim, &created["task_id"]).await;
    assert_eq!(after["state"], "failed");
    assert_eq!(after["last_result"], 107);
    assert_eq!(after["result"], 107);
    // The task is over: an upgrade result after it is refused as such.
    let late = client
        .report(&task.dev_id, &task.token, 205)
        .await
        .unwrap_err();
    assert_eq!(late.vendor_code.as_deref(), Some("errno 20"));
    product.sim.shutdown().await;
}

#[tokio::test]
async fn results_out_of_the_documented_order_are_refused_in_words() {
    let (product, created, task) = product_with_task(4096).await;
    let (sim, client) = (&product.sim, &product.client);

    // Pending (nothing downloaded): neither a download result nor an upgrade result.
    let early = client
        .report(&task.dev_id, &task.token, 101)
        .await
        .unwrap_err();
    assert_eq!(early.code, ErrorKind::Conflict);
    assert_eq!(early.vendor_code.as_deref(), Some("errno 21"));
    assert!(
        early.message.contains("while the task is downloading"),
        "{}",
        early.message
    );
    // Downloading: an upgrade result before the download's.
    client
        .check_download_token(&task.dev_id, &task.token)
        .await
        .unwrap();
    let upgrade = client
        .report(&task.dev_id, &task.token, 201)
        .await
        .unwrap_err();
    assert_eq!(upgrade.vendor_code.as_deref(), Some("errno 21"));
    assert!(
        upgrade
            .message
            .contains("after the download was reported (101)"),
        "{}",
        upgrade.message
    );
    assert_eq!(
        sim_task(sim, &created["task_id"]).await["state"],
        "downloading"
    );
    product.sim.shutdown().await;
}

#[tokio::test]
async fn a_report_on_a_cancelled_task_says_so_in_words() {
    let (product, created, task) = product_with_task(4096).await;
    let (sim, client) = (&product.sim, &product.client);
    let cancel = format!("/_sim/onenet/tasks/{}/cancel", created["task_id"]);
    sim_post(sim, &cancel, json!({})).await;
    let err = client
        .report(&task.dev_id, &task.token, 201)
        .await
        .unwrap_err();
    assert_eq!(err.message, "The update task was cancelled");
    assert_eq!(err.vendor_code.as_deref(), Some("errno 22"));
    let unknown = client
        .report(&task.dev_id, &task.token, 299)
        .await
        .unwrap_err();
    assert_eq!(
        unknown.code,
        ErrorKind::Validation,
        "refused before sending"
    );
    product.sim.shutdown().await;
}

#[tokio::test]
async fn pause_keeps_the_partial_file_and_resume_finishes_it() {
    let f = chunked_fetch(24 * MIB, "nested/fw.bin").await;
    let (client, task, out, options) = (&f.product.client, &f.task, &f.out, &f.options);
    let (switch, signal) = pause_switch();
    let seen = Arc::new(Mutex::new(Vec::<OnenetDownloadProgress>::new()));
    let log = seen.clone();
    let mut on_progress = move |p: OnenetDownloadProgress| {
        if p.received >= 5 * MIB {
            switch.pause();
        }
        log.lock().unwrap().push(p);
    };
    let paused = match fetch::fetch(client, task, out, options, signal, &mut on_progress)
        .await
        .unwrap()
    {
        FetchEnd::Paused { progress } => progress,
        FetchEnd::Done { .. } => panic!("the pause was ignored"),
    };
    assert!(paused.received >= 5 * MIB && paused.received < 24 * MIB);
    assert_eq!(fetch::saved_offset(out, task), paused.received);
    {
        let seen = seen.lock().unwrap();
        assert!(
            seen.windows(2).all(|w| w[0].received <= w[1].received),
            "never backwards"
        );
        assert!(
            seen.iter().any(|p| p.bytes_per_sec.is_some()),
            "a rate was measured"
        );
    }
    let outcome = fetch_to_the_end(client, task, out, options).await;
    assert_eq!(outcome.resumed_from, paused.received);
    assert_eq!(md5_of(out), task.md5);
    f.product.sim.shutdown().await;
}

#[tokio::test]
async fn a_fetch_dropped_mid_way_like_a_closed_app_resumes_from_its_last_chunk() {
    let f = chunked_fetch(32 * MIB, "fw.bin").await;
    let (client, task, out, options) = (&f.product.client, &f.task, &f.out, &f.options);
    let (switch, signal) = pause_switch();
    // Dropping the future is what closing the app does to it; the signal only says when.
    let mut on_progress = move |p: OnenetDownloadProgress| {
        if p.received >= 6 * MIB {
            switch.pause();
        }
    };
    let mut watch = signal.clone();
    let run = fetch::fetch(client, task, out, options, signal, &mut on_progress);
    tokio::select! {
        _ = run => panic!("the download ended before it was dropped"),
        () = watch.wait_paused() => {}
    }
    let saved = fetch::saved_offset(out, task);
    assert!(saved >= 5 * MIB, "chunks before the drop are kept: {saved}");
    let outcome = fetch_to_the_end(client, task, out, options).await;
    assert_eq!(outcome.resumed_from, saved);
    assert_eq!(md5_of(out), task.md5);
    f.product.sim.shutdown().await;
}

#[tokio::test]
async fn no_task_is_none_and_a_wrong_key_is_an_auth_error() {
    let product = product().await;
    let (sim, client) = (&product.sim, &product.client);
    let module = OnenetDeviceRef {
        task_type: OnenetTaskType::Module,
        ..product.device.clone()
    };
    assert_eq!(client.check_task(&module).await.unwrap(), None);

    let wrong = Credentials {
        username: product.credentials.username.clone(),
        secret: Secret::new("d3Jvbmcga2V5IHdyb25nIGtleQ=="),
    };
    let err: ApiError = check_with(sim, wrong, &product.device).await;
    assert_eq!(err.code, ErrorKind::Auth);
    assert_eq!(err.vendor_code.as_deref(), Some("errno 1"));
    product.sim.shutdown().await;
}

async fn check_with(
    sim: &SimHandle,
    credentials: Credentials,
    device: &OnenetDeviceRef,
) -> ApiError {
    client(sim, credentials)
        .check_task(device)
        .await
        .unwrap_err()
}
