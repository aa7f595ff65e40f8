//! The simulator's stand-ins for the clouds' release systems and its own record of update starts:
//! publishing a Vicohome version, counting accepted starts per cloud, and OneNET devices that carry their
//! task out by themselves (autonomous tasks), with faults, offline devices, pause and cancel.

mod common;

use common::onenet::*;
use common::*;
use serde_json::{json, Value};

async fn starts(sim: &SimHandle) -> Value {
    get_json(format!("{}/_sim/starts", sim.url())).await
}

async fn publish(sim: &SimHandle, body: Value) -> reqwest::Response {
    client()
        .post(format!("{}/_sim/vicohome/firmware", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn select(vico: &Vico, serial: &str) -> Value {
    let answer = vico.select(serial).await;
    assert_eq!(answer["result"], 0, "{answer}");
    answer["data"].clone()
}

async fn fleet_device(sim: &SimHandle, id: &str) -> Value {
    get_json(format!("{}/_sim/devices/{id}", sim.url())).await
}

#[tokio::test]
async fn a_published_vicohome_version_is_offered_and_installed_and_each_start_is_counted_once() {
    let sim = sim(60, 21, 1000.0).await;
    let camera = updatable_camera(&sim).await;
    let serial = camera["id"].as_str().unwrap();
    let model = camera["model"].as_str().unwrap();
    for bad in [
        json!({"version": "bad version"}),
        json!({"version": ""}),
        json!({"version": "x".repeat(33)}),
        json!({"version": "2.0.0", "size": 0}),
        json!({"model": model}),
    ] {
        assert_eq!(publish(&sim, bad.clone()).await.status(), 400, "{bad}");
    }
    let unknown = publish(&sim, json!({"version": "2.0.0", "model": "NOPE"})).await;
    assert_eq!(unknown.status(), 404);

    let published = publish(
        &sim,
        json!({"version": "20.0.0", "model": model, "size": 65536}),
    )
    .await;
    assert_eq!(published.status(), 201);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["version"], "20.0.0");
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
    let selected = select(&vico, serial).await;
    assert_eq!(selected["newestFirmwareId"], "20.0.0");
    assert_eq!(selected["firmwareStatus"], 1);
    // Other models are not offered it.
    let other = listed.iter().find(|d| d["modelNo"] != model);
    if let Some(other) = other {
        assert_ne!(other["newestFirmwareId"], "20.0.0");
    }

    assert_eq!(starts(&sim).await["vicohome"], json!({}));
    let started = vico.start(serial).await;
    assert_eq!(started["result"], 0, "{started}");
    assert_eq!(started["data"]["totalSize"], 65536, "{started}");
    // A second start while it runs is the idempotent "already in progress": not a new start.
    assert_eq!(vico.start(serial).await["result"], 0);
    assert_eq!(starts(&sim).await["vicohome"], json!({ serial: 1 }));
    advance(&sim, 120_000).await;
    let status = vico.status(serial).await;
    assert_eq!(status["data"]["otaStatus"], 3, "{status}");
    assert_eq!(status["data"]["targetFirmware"], "20.0.0", "{status}");
    assert_eq!(fleet_device(&sim, serial).await["firmware"], "20.0.0");
    let selected = select(&vico, serial).await;
    assert_eq!(selected["firmwareId"], "20.0.0");
    assert_eq!(selected["firmwareStatus"], 0);
    // Up to date now: a start is refused (-102) and not counted.
    assert_eq!(vico.start(serial).await["result"], -102);
    assert_eq!(starts(&sim).await["vicohome"], json!({ serial: 1 }));

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

#[tokio::test]
async fn publishing_2_0_0_to_cg1_offers_it_to_a_cg1_camera_and_otastart_installs_it_at_a_fast_time_scale(
) {
    // 100 simulated seconds per real second: a whole Vicohome run takes under half a real second, long
    // enough that the second start below surely lands while the first run is going, even on a loaded machine.
    let sim = sim(60, 31, 100.0).await;
    let cg1 = camera(&sim, |d| {
        d["model"] == "CG1"
            && d["online"] == true
            && d["battery"].as_u64().unwrap() >= 20
            && d["firmware"] != "2.0.0"
    })
    .await;
    let serial = cg1["id"].as_str().unwrap();
    let published = publish(&sim, json!({"version": "2.0.0", "model": "CG1"})).await;
    assert_eq!(published.status(), 201);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["version"], "2.0.0");
    assert_eq!(published["models"], json!(["CG1"]));
    assert!(published["devices"].as_u64().unwrap() >= 1, "{published}");

    let vico = Vico::login(&sim).await;
    let listed = vico.list().await;
    let row = listed.iter().find(|d| d["serialNumber"] == serial).unwrap();
    assert_eq!(row["newestFirmwareId"], "2.0.0", "{row}");
    assert!(listed
        .iter()
        .filter(|d| d["modelNo"] != "CG1")
        .all(|d| d["newestFirmwareId"] != "2.0.0"));

    assert_eq!(vico.start(serial).await["result"], 0);
    // Still running: the idempotent answer, not a second start.
    let again = vico.start(serial).await;
    assert_eq!(again["result"], 0, "{again}");
    assert_eq!(starts(&sim).await["vicohome"], json!({ serial: 1 }));
    let mut status = Value::Null;
    for _ in 0..100 {
        status = vico.status(serial).await;
        if status["data"]["otaStatus"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status["data"]["otaStatus"], 3, "{status}");
    assert_eq!(fleet_device(&sim, serial).await["firmware"], "2.0.0");
    assert_eq!(select(&vico, serial).await["firmwareId"], "2.0.0");
    assert_eq!(
        starts(&sim).await,
        json!({"vicohome": { serial: 1 }, "quectel": {}, "onenet": {}})
    );
}

#[tokio::test]
async fn publishing_to_every_model_leaves_a_running_update_on_its_target() {
    let (sim, camera, vico) = camera_session(60, 24, 1.0).await;
    let serial = camera["id"].as_str().unwrap();
    let first_target = camera["newest_firmware"].as_str().unwrap().to_string();
    assert_eq!(vico.start(serial).await["result"], 0);
    advance(&sim, 3_000).await;
    assert_eq!(vico.status(serial).await["data"]["otaStatus"], 1);

    let published = publish(&sim, json!({"version": "30.1.0-rc_1"})).await;
    assert_eq!(published.status(), 201);
    let published: Value = published.json().await.unwrap();
    let cameras: Vec<Value> = fleet_of(&sim, "vicohome").await;
    let mut models: Vec<&str> = cameras
        .iter()
        .map(|d| d["model"].as_str().unwrap())
        .collect();
    models.sort();
    models.dedup();
    let mut answered: Vec<&str> = published["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    answered.sort();
    assert!(models.iter().all(|m| answered.contains(m)), "{published}");
    assert_eq!(published["devices"], json!(cameras.len()));
    assert!(cameras
        .iter()
        .all(|d| d["newest_firmware"] == "30.1.0-rc_1"));

    // The running update still goes to the version it started with.
    advance(&sim, 120_000).await;
    let status = vico.status(serial).await;
    assert_eq!(status["data"]["otaStatus"], 3, "{status}");
    assert_eq!(status["data"]["targetFirmware"], first_target.as_str());
    assert_eq!(
        fleet_device(&sim, serial).await["firmware"],
        first_target.as_str()
    );
    let selected = select(&vico, serial).await;
    assert_eq!(selected["newestFirmwareId"], "30.1.0-rc_1");
    assert_eq!(selected["firmwareStatus"], 1);
    // The next start is a new run, to the published version.
    assert_eq!(vico.start(serial).await["result"], 0);
    assert_eq!(starts(&sim).await["vicohome"], json!({ serial: 2 }));
    advance(&sim, 120_000).await;
    assert_eq!(fleet_device(&sim, serial).await["firmware"], "30.1.0-rc_1");

    // Publishing the version the cameras now run offers it to none of those.
    let again: Value = publish(
        &sim,
        json!({"version": "30.1.0-rc_1", "model": camera["model"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let of_model = cameras
        .iter()
        .filter(|d| d["model"] == camera["model"])
        .count();
    assert_eq!(again["devices"], json!(of_model - 1));
}

/// A plan to a new version for one device; answers (planId, the simulator's wall ms).
async fn plan_for(sim: &SimHandle, device: &Value) -> (i64, i64) {
    let response = client()
        .post(format!("{}/_sim/quectel/plans", sim.url()))
        .json(&json!({
            "targetVersion": "9.9.9",
            "productKey": device["product_key"],
            "deviceKeys": [device["id"]],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let plan: Value = response.json().await.unwrap();
    (
        plan["planId"].as_i64().unwrap(),
        plan["nowMs"].as_i64().unwrap(),
    )
}

async fn confirm(sim: &SimHandle, token: &str, items: Value) -> Value {
    let answer = quectel::post_with(sim, token, quectel::CONFIRM, items).await;
    assert_eq!(answer["code"], 200, "{answer}");
    answer["data"].clone()
}

fn item(device: &Value, plan: i64, oper: i64) -> Value {
    json!({"productKey": device["product_key"], "deviceKey": device["id"], "planId": plan, "operType": oper})
}

#[tokio::test]
async fn quectel_confirmations_that_start_an_upgrade_are_counted() {
    let sim = sim(90, 25, 1.0).await;
    let mqtt: Vec<Value> = devices(&sim)
        .await
        .into_iter()
        .filter(|d| d["cloud"] == "quectel" && d["transport"] == "mqtt" && d["firmware"] != "9.9.9")
        .take(3)
        .collect();
    assert_eq!(mqtt.len(), 3, "enough Quectel MQTT devices");
    let (now_dev, appoint_dev, cancel_dev) = (&mqtt[0], &mqtt[1], &mqtt[2]);
    let token = quectel::sign_in(&sim).await;
    let (p_now, _) = plan_for(&sim, now_dev).await;
    let (p_appoint, wall) = plan_for(&sim, appoint_dev).await;
    let (p_cancel, _) = plan_for(&sim, cancel_dev).await;
    fault_once(
        &sim,
        "quectel_upgrade_fail",
        now_dev["id"].as_str().unwrap(),
    )
    .await;

    let hour = 3_600_000;
    let mut appoint = item(appoint_dev, p_appoint, 2);
    appoint["appointStartTime"] = json!(wall + hour);
    appoint["appointEndTime"] = json!(wall + 3 * hour);
    let first = confirm(
        &sim,
        &token,
        json!([
            item(now_dev, p_now, 1),
            appoint,
            item(cancel_dev, p_cancel, 3),
            item(now_dev, p_now, 1),
        ]),
    )
    .await;
    assert_eq!(first["successList"].as_array().unwrap().len(), 3, "{first}");
    // The repeated "upgrade now" finds the device already upgrading: refused, not counted.
    assert_eq!(first["failList"].as_array().unwrap().len(), 1, "{first}");
    let now_key = now_dev["id"].as_str().unwrap();
    let appoint_key = appoint_dev["id"].as_str().unwrap();
    assert_eq!(
        starts(&sim).await["quectel"],
        json!({ now_key: 1, appoint_key: 1 })
    );

    // Retry after the fault failed it counts again; retrying the cancelled one is refused.
    advance(&sim, 60_000).await;
    let plan = send_for_json(
        client()
            .get(format!(
                "{}{}?pk={}&dk={now_key}",
                sim.url(),
                quectel::PLAN,
                now_dev["product_key"].as_str().unwrap()
            ))
            .header("Authorization", &token),
    )
    .await;
    assert_eq!(plan["data"]["deviceStatus"], 3, "{plan}");
    let retried = confirm(
        &sim,
        &token,
        json!([item(now_dev, p_now, 5), item(cancel_dev, p_cancel, 5)]),
    )
    .await;
    assert_eq!(
        retried["successList"].as_array().unwrap().len(),
        1,
        "{retried}"
    );
    assert_eq!(
        starts(&sim).await["quectel"],
        json!({ now_key: 2, appoint_key: 1 })
    );
    assert_eq!(starts(&sim).await["vicohome"], json!({}));
    assert_eq!(starts(&sim).await["onenet"], json!({}));
}

/// Waits (on the simulated clock) until the task reaches `state`; returns the task.
/// The task with this id as the simulator's listing of the device's tasks shows it.
async fn listed_task(sim: &SimHandle, dev_id: &str, id: &Value) -> Value {
    let listed = get_json(format!("{}/_sim/onenet/tasks?dev_id={dev_id}", sim.url())).await;
    listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task_id"] == *id)
        .unwrap()
        .clone()
}

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

async fn task_action(sim: &SimHandle, id: &Value, action: &str) -> reqwest::Response {
    client()
        .post(format!("{}/_sim/onenet/tasks/{id}/{action}", sim.url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_autonomous_onenet_task_runs_on_the_device_to_its_target() {
    let sim = sim(30, 22, 1.0).await;
    let device = Onenet::first_online(&sim).await;
    let task = device.autonomous_task("V77", 1_048_576).await;
    assert_eq!(task["autonomous"], true);
    assert_eq!(task["id"], task["task_id"]);
    assert_eq!(task["target"], "V77");
    assert_eq!(task["result"], Value::Null);
    assert_eq!(task["state"], "pending");
    assert_eq!(task["progress"], 0);
    assert_eq!(task["error"], Value::Null);
    let id = task["task_id"].clone();
    assert_eq!(starts(&sim).await["onenet"], json!({ &device.dev_id: 1 }));
    advance(&sim, 1_500).await;
    let downloading = device.task(&id).await;
    assert_eq!(downloading["state"], "downloading");
    let p = downloading["progress"].as_u64().unwrap();
    assert!(p > 0 && p < 100, "{downloading}");
    advance(&sim, 2_000).await;
    let upgrading = device.task(&id).await;
    assert_eq!(upgrading["state"], "upgrading");
    assert!(upgrading["progress"].as_u64().unwrap() > p, "{upgrading}");
    let done = until_state(&device, &sim, &id, "succeeded").await;
    assert_eq!(done["progress"], 100);
    assert_eq!(done["last_result"], 201);
    // `result` is a failure's code only.
    assert_eq!(done["result"], Value::Null);
    assert_eq!(done["error"], Value::Null);
    assert_eq!(fleet_device(&sim, &device.dev_id).await["firmware"], "V77");
    // What the device reports through OneNET's version endpoint, too.
    let version = device
        .get(
            &format!("/ota/device/version?dev_id={}", device.dev_id),
            &device.token(),
        )
        .await;
    assert_eq!(version["data"]["s_version"], "V77", "{version}");
    // The listing by device shows it the same way.
    let row = listed_task(&sim, &device.dev_id, &id).await;
    assert_eq!(row["state"], "succeeded");
    assert_eq!(row["autonomous"], true);
}

#[tokio::test]
async fn an_autonomous_task_looked_at_late_finished_on_time_and_other_tasks_wait_for_the_device() {
    let sim = sim(30, 26, 1.0).await;
    let device = Onenet::first_online(&sim).await;
    // 3 MiB: 3 s of download, 10 s of upgrade, nobody looking in between.
    let task = device.autonomous_task("V90", 3 * 1_048_576).await;
    advance(&sim, 600_000).await;
    let done = device.task(&task["task_id"]).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let took = done["updated_ms"].as_u64().unwrap() - done["created_ms"].as_u64().unwrap();
    assert!((12_990..13_010).contains(&took), "{done}");

    // A task without "autonomous" is left to a device-side client, as ever.
    let manual = device
        .create_task(json!({"target": "V91", "size": 1024}))
        .await;
    assert_eq!(manual["autonomous"], false);
    advance(&sim, 600_000).await;
    let manual = device.task(&manual["task_id"]).await;
    assert_eq!(manual["state"], "pending");
    assert_eq!(manual["progress"], 0);
    assert_eq!(starts(&sim).await["onenet"], json!({ &device.dev_id: 2 }));
}

#[tokio::test]
async fn faults_fail_autonomous_tasks_and_an_offline_device_holds_its_task() {
    let sim = sim(40, 23, 1.0).await;
    let failing = Onenet::nth(&sim, 0).await;
    let offline = Onenet::nth(&sim, 1).await;
    patch_device(&sim, &failing.dev_id, json!({"online": true})).await;
    let before = fleet_device(&sim, &failing.dev_id).await["firmware"].clone();
    fault_once(&sim, "install_fail", &failing.dev_id).await;
    let doomed = failing
        .create_task(json!({"target": "V78", "size": 1024, "autonomous": true}))
        .await;
    let failed = until_state(&failing, &sim, &doomed["task_id"], "failed").await;
    assert_eq!(failed["last_result"], 206);
    assert_eq!(failed["result"], 206);
    assert!(failed["error"].as_str().unwrap().contains("install"));
    let p = failed["progress"].as_u64().unwrap();
    assert!(p > 0 && p < 100, "{failed}");
    assert_eq!(
        fleet_device(&sim, &failing.dev_id).await["firmware"],
        before
    );
    // The fault was used up: the next task succeeds.
    let faults = get_json(format!("{}/_sim/faults", sim.url())).await;
    assert_eq!(faults, json!([]));
    let again = failing
        .create_task(json!({"target": "V78", "size": 1024, "autonomous": true}))
        .await;
    until_state(&failing, &sim, &again["task_id"], "succeeded").await;
    assert_eq!(fleet_device(&sim, &failing.dev_id).await["firmware"], "V78");

    patch_device(&sim, &offline.dev_id, json!({"online": false})).await;
    let held = offline
        .create_task(json!({"target": "V79", "size": 1024, "autonomous": true}))
        .await;
    advance(&sim, 60_000).await;
    let waiting = offline.task(&held["task_id"]).await;
    assert_eq!(waiting["state"], "pending");
    assert_eq!(waiting["progress"], 0);
    patch_device(&sim, &offline.dev_id, json!({"online": true})).await;
    until_state(&offline, &sim, &held["task_id"], "succeeded").await;
    assert_eq!(fleet_device(&sim, &offline.dev_id).await["firmware"], "V79");
    assert_eq!(starts(&sim).await["onenet"][&failing.dev_id], 2);
    assert_eq!(starts(&sim).await["onenet"][&offline.dev_id], 1);
}

#[tokio::test]
async fn download_fail_stops_an_autonomous_download_and_the_offline_fault_holds_a_task_midway() {
    let sim = sim(40, 27, 1.0).await;
    let failing = Onenet::nth(&sim, 0).await;
    let paused = Onenet::nth(&sim, 1).await;
    for d in [&failing, &paused] {
        patch_device(&sim, &d.dev_id, json!({"online": true})).await;
    }
    // Every device's next task: "*" with a count of one.
    add_fault(&sim, json!({"kind": "download_fail", "count": 1})).await;
    // 4 MiB: the download stops at 40 %, 1.6 s in.
    let doomed = failing
        .create_task(json!({"target": "V80", "size": 4 * 1_048_576, "autonomous": true}))
        .await;
    advance(&sim, 1_000).await;
    assert_eq!(
        failing.task(&doomed["task_id"]).await["state"],
        "downloading"
    );
    advance(&sim, 30_000).await;
    let failed = failing.task(&doomed["task_id"]).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["last_result"], 107);
    assert_eq!(failed["result"], 107);
    assert!(failed["error"].as_str().unwrap().contains("download"));
    assert_eq!(failed["step"], 40, "{failed}");
    assert!(failed["progress"].as_u64().unwrap() < 15, "{failed}");

    // The offline fault holds a task where it is, mid-download, until it is cleared.
    let task = paused.autonomous_task("V81", 4 * 1_048_576).await;
    let id = task["task_id"].clone();
    advance(&sim, 2_000).await;
    let midway = paused.task(&id).await;
    assert_eq!(midway["state"], "downloading", "{midway}");
    let fault = add_fault(&sim, json!({"kind": "offline", "target": paused.dev_id})).await;
    advance(&sim, 60_000).await;
    let held = paused.task(&id).await;
    assert_eq!(held["state"], "downloading", "{held}");
    let p = held["progress"].as_u64().unwrap();
    assert!(
        p >= midway["progress"].as_u64().unwrap() && p < 30,
        "{midway} {held}"
    );
    client()
        .delete(format!("{}/_sim/faults/{}", sim.url(), fault["id"]))
        .send()
        .await
        .unwrap();
    let done = until_state(&paused, &sim, &id, "succeeded").await;
    assert_eq!(done["last_result"], 201);
    assert_eq!(fleet_device(&sim, &paused.dev_id).await["firmware"], "V81");
}

#[tokio::test]
async fn pausing_holds_an_autonomous_task_and_cancelling_stops_it() {
    let sim = sim(40, 28, 1.0).await;
    let device = Onenet::first_online(&sim).await;
    let before = fleet_device(&sim, &device.dev_id).await["firmware"].clone();
    let task = device.autonomous_task("V82", 8 * 1_048_576).await;
    let id = task["task_id"].clone();
    advance(&sim, 2_000).await;
    let paused = task_action(&sim, &id, "pause").await;
    assert_eq!(paused.status(), 200);
    let paused: Value = paused.json().await.unwrap();
    assert_eq!(paused["state"], "paused");
    advance(&sim, 600_000).await;
    let still = device.task(&id).await;
    assert_eq!(still["state"], "paused");
    assert_eq!(still["progress"], paused["progress"]);
    let resumed: Value = task_action(&sim, &id, "resume").await.json().await.unwrap();
    assert_eq!(resumed["state"], "downloading", "{resumed}");
    advance(&sim, 1_000).await;
    let going = device.task(&id).await;
    assert_eq!(going["state"], "downloading", "{going}");
    assert!(going["progress"].as_u64().unwrap() > paused["progress"].as_u64().unwrap());

    let cancelled = task_action(&sim, &id, "cancel").await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["state"], "cancelled");
    advance(&sim, 600_000).await;
    let row = listed_task(&sim, &device.dev_id, &id).await;
    assert_eq!(row["state"], "cancelled");
    assert_eq!(row["autonomous"], true);
    assert_eq!(row["progress"], cancelled["progress"]);
    assert_eq!(fleet_device(&sim, &device.dev_id).await["firmware"], before);

    // A cancel that comes after the device finished (nobody looked) finds it succeeded: 409.
    let late = device
        .create_task(json!({"target": "V83", "size": 1024, "autonomous": true}))
        .await;
    advance(&sim, 600_000).await;
    assert_eq!(
        task_action(&sim, &late["task_id"], "cancel").await.status(),
        409
    );
    assert_eq!(device.task(&late["task_id"]).await["state"], "succeeded");
}
