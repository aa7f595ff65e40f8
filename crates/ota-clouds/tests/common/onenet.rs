//! OneNET download helpers against the simulator: its task records, a device reference from its fleet
//! record, and a fetch that runs to its end.

use std::path::Path;

use ota_clouds::onenet::fetch::{self, FetchEnd, FetchOptions, PauseSignal};
use ota_clouds::onenet::OnenetClient;
use ota_core::onenet::{OnenetDeviceRef, OnenetFetchOutcome, OnenetTask, OnenetTaskType};
use ota_core::ApiError;
use ota_sim::SimHandle;
use serde_json::{json, Value};

use super::{get, post};

/// The version the simulator's OneNET tasks made here upgrade to.
pub const TASK_TARGET: &str = "V9.1";

/// Creates a type-2 full task of `size` bytes for `dev_id` through the simulator's management endpoint;
/// the simulator's task record.
pub async fn create_task(sim: &SimHandle, dev_id: &str, size: u64) -> Value {
    post(
        format!("{}/_sim/onenet/tasks", sim.url()),
        json!({"dev_id": dev_id, "target": TASK_TARGET, "size": size, "type": 2}),
    )
    .await
}

/// The simulator's record of the task `task_id` (state, bytes served, results).
pub async fn sim_task(sim: &SimHandle, task_id: &Value) -> Value {
    get(format!("{}/_sim/onenet/tasks/{}", sim.url(), task_id)).await
}

/// The application-task reference of a device of the simulator's fleet record.
pub fn device_ref(record: &Value) -> OnenetDeviceRef {
    OnenetDeviceRef {
        dev_id: record["id"].as_str().unwrap().to_string(),
        manuf: record["manufacturer"].as_str().map(str::to_string),
        model: record["model"].as_str().map(str::to_string),
        version: record["firmware"].as_str().unwrap().to_string(),
        task_type: OnenetTaskType::Application,
    }
}

/// Fetches `task` into `out` until it ends or fails: never paused, progress not watched.
pub async fn fetch_unpaused(
    client: &OnenetClient,
    task: &OnenetTask,
    out: &Path,
    options: &FetchOptions,
) -> Result<FetchEnd, ApiError> {
    fetch::fetch(
        client,
        task,
        out,
        options,
        PauseSignal::never(),
        &mut |_| {},
    )
    .await
}

/// The outcome of a fetch that must have ended verified (a pause fails the test).
pub fn finished(end: FetchEnd) -> OnenetFetchOutcome {
    match end {
        FetchEnd::Done { outcome } => outcome,
        FetchEnd::Paused { progress } => panic!("paused at {}", progress.received),
    }
}

/// Lower-case hex MD5 of `bytes`, as OneNET writes it.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
