//! The simulator's stand-ins for the clouds' release systems and its own record of update starts:
//! publishing a Vicohome version, counting accepted starts per cloud, and OneNET devices that carry their
//! task out by themselves (autonomous tasks), with faults and offline devices.

mod common;

use common::onenet::*;
use common::*;
use serde_json::{json, Value};

async fn starts(sim: &SimHandle) -> Value {
    get_json(format!("{}/_sim/starts", sim.url())).await
}

#[tokio::test]
async fn a_published_vicohome_version_is_offered_and_installed_and_each_start_is_counted_once() {
    let sim = sim(60, 21, 1000.0).await;
    let camera = updatable_camera(&sim).await;
    let serial = camera["id"].as_str().unwrap();
    let model = camera["model"].as_str().unwrap();
    let refused = client()
        .post(format!("{}/_sim/vicohome/firmware", sim.url()))
        .json(&json!({"version": "bad version"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let unknown = client()
        .post(format!("{}/_sim/vicohome/firmware", sim.url()))
        .json(&json!({"version": "2.0.0", "model": "NOPE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let published = post_json(
        format!("{}/_sim/vicohome/firmware", sim.url()),
        json!({"version": "20.0.0", "model": model, "size": 65536}),
    )
    .await;
    assert_eq!(published["models"], json!([model]));
    let same_model = devices(&sim)
        .await
        .iter()
        .filter(|d| d["cloud"] == "vicohome" && d["model"] == model)
        .count();
    assert_eq!(published["devices"], json!(same_model));

    let vico = Vico::login(&sim).await;
    let listed = vico.list().await;
    let row = listed.iter().find(|d| d["serialNumber"] == serial).unwrap();
    assert_eq!(row["newestFirmwareId"], "20.0.0");
    assert_eq!(starts(&sim).await["vicohome"], json!({}));
    assert_eq!(vico.start(serial).await["result"], 0);
    // A second start while it runs is the idempotent "already in progress": not a new start.
    assert_eq!(vico.start(serial).await["result"], 0);
    assert_eq!(starts(&sim).await["vicohome"], json!({ serial: 1 }));
    advance(&sim, 120_000).await;
    let status = vico.status(serial).await;
    assert_eq!(status["data"]["otaStatus"], 3, "{status}");
    let after = devices(&sim).await;
    let updated = after.iter().find(|d| d["id"] == serial).unwrap();
    assert_eq!(updated["firmware"], "20.0.0");

    let cleared = client()
        .delete(format!("{}/_sim/starts", sim.url()))
        .send()
        .await
        .unwrap();
    assert!(cleared.status().is_success());
    assert_eq!(
        starts(&sim).await,
        json!({"vicohome": {}, "quectel": {}, "onenet": {}})
    );
}

/// Waits (on the simulated clock) until the task reaches `state`; returns the task.
async fn until_state(device: &Onenet, sim: &SimHandle, id: &Value, state: &str) -> Value {
    for _ in 0..60 {
        let task = device.task(id).await;
        if task["state"] == state {
            return task;
        }
        advance(sim, 2_000).await;
    }
    panic!("task {id} never became {state}: {}", device.task(id).await);
}

#[tokio::test]
async fn an_autonomous_onenet_task_runs_on_the_device_to_its_target() {
    let sim = sim(30, 22, 1.0).await;
    let device = Onenet::first(&sim).await;
    patch_device(&sim, &device.dev_id, json!({"online": true})).await;
    let task = device
        .create_task(json!({"target": "V77", "size": 1_048_576, "autonomous": true}))
        .await;
    assert_eq!(task["autonomous"], true);
    assert_eq!(task["state"], "pending");
    let id = task["task_id"].clone();
    assert_eq!(starts(&sim).await["onenet"][&device.dev_id], 1);
    advance(&sim, 1_500).await;
    let downloading = device.task(&id).await;
    assert_eq!(downloading["state"], "downloading");
    let p = downloading["progress"].as_u64().unwrap();
    assert!(p > 0 && p < 100, "{downloading}");
    advance(&sim, 2_000).await;
    assert_eq!(device.task(&id).await["state"], "upgrading");
    let done = until_state(&device, &sim, &id, "succeeded").await;
    assert_eq!(done["progress"], 100);
    assert_eq!(done["last_result"], 201);
    let fleet = devices(&sim).await;
    let now = fleet
        .iter()
        .find(|d| d["id"] == device.dev_id.as_str())
        .unwrap();
    assert_eq!(now["firmware"], "V77");
}

#[tokio::test]
async fn faults_fail_autonomous_tasks_and_an_offline_device_holds_its_task() {
    let sim = sim(40, 23, 1.0).await;
    let failing = Onenet::nth(&sim, 0).await;
    let offline = Onenet::nth(&sim, 1).await;
    patch_device(&sim, &failing.dev_id, json!({"online": true})).await;
    add_fault(
        &sim,
        json!({"kind": "install_fail", "target": failing.dev_id, "count": 1}),
    )
    .await;
    let doomed = failing
        .create_task(json!({"target": "V78", "size": 1024, "autonomous": true}))
        .await;
    let failed = until_state(&failing, &sim, &doomed["task_id"], "failed").await;
    assert_eq!(failed["last_result"], 206);
    assert!(failed["error"].as_str().unwrap().contains("install"));
    // The fault was used up: the next task succeeds.
    let again = failing
        .create_task(json!({"target": "V78", "size": 1024, "autonomous": true}))
        .await;
    until_state(&failing, &sim, &again["task_id"], "succeeded").await;

    patch_device(&sim, &offline.dev_id, json!({"online": false})).await;
    let held = offline
        .create_task(json!({"target": "V79", "size": 1024, "autonomous": true}))
        .await;
    advance(&sim, 60_000).await;
    assert_eq!(offline.task(&held["task_id"]).await["state"], "pending");
    patch_device(&sim, &offline.dev_id, json!({"online": true})).await;
    until_state(&offline, &sim, &held["task_id"], "succeeded").await;
    assert_eq!(starts(&sim).await["onenet"][&failing.dev_id], 2);
}
