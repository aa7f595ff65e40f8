//! The Vicohome cloud over HTTP: sign-in, lists, the OTA walk and every documented error code.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const MIB: u64 = 1024 * 1024;

/// Polls otastatus until `done` says so (or 10 s pass); returns every answer seen.
async fn poll_until(vico: &Vico, serial: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let answer = vico.status(serial).await;
        let finished = done(&answer);
        seen.push(answer);
        if finished {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "gave up; last answer {:?}",
            seen.last()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Starts the update (the start is accepted) and polls until an answer carries an error; every answer.
async fn started_until_error(vico: &Vico, serial: &str) -> Vec<Value> {
    assert_eq!(vico.start(serial).await["result"], 0);
    poll_until(vico, serial, |a| a["result"] != 0).await
}

#[tokio::test]
async fn full_ota_walk_at_time_scale_1000() {
    let (sim, cam, vico) = camera_session(40, 42, 1000.0).await;
    let serial = cam["id"].as_str().unwrap();

    let before = vico.list().await;
    let listed = before.iter().find(|d| d["serialNumber"] == serial).unwrap();
    assert_eq!(listed["firmwareId"], cam["firmware"]);
    assert_ne!(listed["firmwareId"], listed["newestFirmwareId"]);

    let started = vico.start(serial).await;
    assert_eq!(started["result"], 0, "{started}");
    assert_eq!(started["msg"], "success");
    let data = &started["data"];
    assert_eq!(data["inProgress"], true);
    assert_eq!(data["otaStatus"], 0);
    assert_eq!(data["status"], 1);
    assert_eq!(data["serialNumber"], serial);
    assert_eq!(data["transferredSize"], 0);
    let total = data["totalSize"].as_u64().unwrap();
    assert!((8 * MIB..=24 * MIB).contains(&total), "{total}");

    let seen = poll_until(&vico, serial, |a| a["data"]["otaStatus"] == 3).await;
    let mut last_status = 0;
    let mut last_bytes = 0;
    for answer in &seen {
        assert_eq!(answer["result"], 0, "{answer}");
        let status = answer["data"]["otaStatus"].as_u64().unwrap();
        let bytes = answer["data"]["transferredSize"].as_u64().unwrap();
        assert!(
            status >= last_status,
            "otaStatus never goes back: {status} after {last_status}"
        );
        assert!(bytes >= last_bytes, "transferredSize never shrinks");
        assert_eq!(answer["data"]["inProgress"], status < 3);
        assert_eq!(answer["data"]["totalSize"], total);
        assert_eq!(answer["data"]["targetFirmware"], cam["newest_firmware"]);
        (last_status, last_bytes) = (status, bytes);
    }
    let done = seen.last().unwrap();
    assert_eq!(done["data"]["transferredSize"], total);
    assert_eq!(done["data"]["inProgress"], false);

    let after = vico.list().await;
    let listed = after.iter().find(|d| d["serialNumber"] == serial).unwrap();
    assert_eq!(
        listed["firmwareId"], cam["newest_firmware"],
        "firmware changed"
    );
    let single = vico.select(serial).await;
    assert_eq!(single["data"]["firmwareStatus"], 0);
    let sim_device = get_json(format!("{}/_sim/devices/{serial}", sim.url())).await;
    assert_eq!(sim_device["firmware"], cam["newest_firmware"]);
    assert_eq!(
        vico.start(serial).await["result"],
        -102,
        "nothing left to update"
    );
}

#[tokio::test]
async fn every_phase_step_by_step_with_the_clock() {
    let (sim, cam, vico) = camera_session(40, 42, 1.0).await;
    let serial = cam["id"].as_str().unwrap();
    let single = vico.select(serial).await;
    assert_eq!(single["data"]["firmwareStatus"], 1, "update available");

    let started = vico.start(serial).await;
    let total = started["data"]["totalSize"].as_u64().unwrap();
    assert_eq!(vico.status(serial).await["data"]["otaStatus"], 0);

    advance(&sim, 2_000 + 3_000).await;
    let downloading = vico.status(serial).await;
    assert_eq!(downloading["data"]["otaStatus"], 1);
    let bytes = downloading["data"]["transferredSize"].as_u64().unwrap();
    assert!((3 * MIB..4 * MIB).contains(&bytes), "~1 MiB/s: {bytes}");

    advance(&sim, total * 1000 / MIB).await;
    let installing = vico.status(serial).await;
    assert_eq!(installing["data"]["otaStatus"], 2);
    assert_eq!(installing["data"]["transferredSize"], total);
    assert_eq!(installing["data"]["inProgress"], true);

    advance(&sim, 20_000).await;
    let complete = vico.status(serial).await;
    assert_eq!(complete["data"]["otaStatus"], 3);
    assert_eq!(complete["data"]["inProgress"], false);
}

#[tokio::test]
async fn a_second_start_is_idempotent_and_the_log_counts_starts() {
    let (sim, cam, vico) = camera_session(40, 42, 1.0).await;
    let serial = cam["id"].as_str().unwrap();
    client()
        .delete(format!("{}/_sim/log", sim.url()))
        .send()
        .await
        .unwrap();

    let first = vico.start(serial).await;
    advance(&sim, 4_000).await;
    let second = vico.start(serial).await;
    assert_eq!(second["result"], 0);
    assert_eq!(second["data"]["otaStatus"], 1, "reports the running update");
    assert_eq!(second["data"]["totalSize"], first["data"]["totalSize"]);
    vico.start("VCNOSUCHCAM0").await;

    let starts: Vec<Value> = log(&sim)
        .await
        .into_iter()
        .filter(|e| e["endpoint"] == "/device/otastart/")
        .collect();
    assert_eq!(starts.len(), 3);
    assert_eq!(starts[0]["outcome"], "ok");
    assert_eq!(starts[1]["outcome"], "already_in_progress");
    assert_eq!(starts[2]["outcome"], "error:-100");
    assert_eq!(starts[0]["cloud"], "vicohome");
    assert_eq!(starts[0]["target"], serial);
    assert!(starts[0]["seq"].as_u64() < starts[1]["seq"].as_u64());
    assert!(starts[0]["at_ms"].as_u64().unwrap() > 1_600_000_000_000);
}

/// The seed's request example, with this serial number.
fn start_body(serial: &str) -> Value {
    json!({"serialNumber": serial, "app": "vicohome", "countryNo": "US", "language": "en", "tenantId": "vicohome"})
}

#[tokio::test]
async fn only_the_documented_form_of_each_endpoint_is_accepted() {
    let (sim, cam, vico) = camera_session(40, 42, 1.0).await;
    let serial = cam["id"].as_str().unwrap();
    let url = |p: &str| format!("{}{p}", sim.url());
    client().delete(url("/_sim/log")).send().await.unwrap();

    // Without the trailing slash the path is unknown: HTTP 404, nothing started, nothing logged.
    for path in ["/device/otastart", "/device/otastatus"] {
        let response = vico.raw(path, start_body(serial)).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert!(
        log(&sim).await.is_empty(),
        "an unknown path is no cloud call"
    );

    // Another method on a documented path: HTTP 405.
    let get = client()
        .get(url("/device/otastart/"))
        .header("Authorization", &vico.token)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");

    // A form body, JSON sent as text/plain, or no Content-Type: -2 "invalid parameters".
    let form = send_for_json(
        client()
            .post(url("/device/otastart/"))
            .header("Authorization", &vico.token)
            .form(&[
                ("serialNumber", serial),
                ("app", "vicohome"),
                ("countryNo", "US"),
                ("language", "en"),
                ("tenantId", "vicohome"),
            ]),
    )
    .await;
    assert_eq!(form["result"], -2, "{form}");
    assert!(
        form["msg"].as_str().unwrap().contains("application/json"),
        "{form}"
    );
    let text_plain = send_for_json(
        client()
            .post(url("/device/otastatus/"))
            .header("Authorization", &vico.token)
            .header("Content-Type", "text/plain")
            .body(json!({ "serialNumber": serial }).to_string()),
    )
    .await;
    assert_eq!(text_plain["result"], -2, "{text_plain}");
    let login_form = send_for_json(client().post(url("/account/login")).form(&[
        ("email", "sandbox@vicohome.sim"),
        ("password", "x"),
        ("loginType", "0"),
    ]))
    .await;
    assert_eq!(login_form["result"], -2, "{login_form}");

    // Another parameter name, or a start whose serial number is named otherwise: -2.
    let renamed = vico
        .call("/device/otastatus/", json!({ "serial_number": serial }))
        .await;
    assert_eq!(renamed["result"], -2, "{renamed}");
    assert!(renamed["msg"].as_str().unwrap().contains("serialNumber"));
    let misnamed_start = vico
        .call(
            "/device/otastart/",
            json!({ "serial": serial, "app": "vicohome" }),
        )
        .await;
    assert_eq!(misnamed_start["result"], -2, "{misnamed_start}");
    assert_eq!(
        get_json(url("/_sim/starts")).await["vicohome"],
        json!({}),
        "nothing started"
    );

    // The documented form works.
    let started = vico.call("/device/otastart/", start_body(serial)).await;
    assert_eq!(started["result"], 0, "{started}");
    assert_eq!(
        get_json(url("/_sim/starts")).await["vicohome"],
        json!({ serial: 1 })
    );
}

#[tokio::test]
async fn auth_codes() {
    let sim = sim(20, 42, 1.0).await;
    let cam = updatable_camera(&sim).await;
    let serial = cam["id"].as_str().unwrap();
    let url = |p: &str| format!("{}{p}", sim.url());
    let body = json!({ "serialNumber": serial });

    let wrong = post_json(
        url("/account/login"),
        json!({"email": "sandbox@vicohome.sim", "password": "nope", "loginType": 0}),
    )
    .await;
    assert_eq!(wrong["result"], -1);
    assert_eq!(wrong["msg"], "account or password error");

    let missing = send_for_json(client().post(url("/device/otastatus/")).json(&body)).await;
    assert_eq!(missing["result"], -1025);

    let unknown = send_for_json(
        client()
            .post(url("/device/listuserdevices"))
            .header("Authorization", "not-a-token")
            .json(&json!({})),
    )
    .await;
    assert_eq!(unknown["result"], -1026);

    let vico = Vico::login(&sim).await;
    let bearer = send_for_json(
        client()
            .post(url("/device/otastatus/"))
            .header("Authorization", format!("Bearer {}", vico.token))
            .json(&body),
    )
    .await;
    assert_eq!(
        bearer["result"], -1026,
        "the token goes verbatim, no Bearer"
    );

    // A forced expiry hits once; the token stays expired; a new sign-in works.
    add_fault(&sim, json!({"target": "*", "kind": "token_expired"})).await;
    assert_eq!(vico.status(serial).await["result"], -1027);
    assert_eq!(vico.status(serial).await["result"], -1027);
    let again = Vico::login(&sim).await;
    assert_eq!(again.status(serial).await["result"], 0);
    assert!(get_json(url("/_sim/faults"))
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn tokens_expire_after_their_ttl_of_simulated_time() {
    let sim = sim_with(SimConfig {
        devices: 10,
        token_ttl: Duration::from_secs(3600),
        ..Default::default()
    })
    .await;
    let vico = Vico::login(&sim).await;
    assert_eq!(vico.list().await.len(), 4);
    advance(&sim, 3_601_000).await;
    let expired = vico
        .call(
            "/device/listuserdevices",
            json!({"language": "en", "countryNo": "US"}),
        )
        .await;
    assert_eq!(expired["result"], -1027);
    assert_eq!(expired["msg"], "token expired");
}

#[tokio::test]
async fn parameter_device_and_update_codes() {
    let (sim, cam, vico) = camera_session(40, 42, 1.0).await;
    let serial = cam["id"].as_str().unwrap();

    // -2: no or blank serial number, or a body that is no JSON.
    let mut no_serial = start_body(serial);
    no_serial.as_object_mut().unwrap().remove("serialNumber");
    assert_eq!(
        vico.call("/device/otastart/", no_serial).await["result"],
        -2
    );
    assert_eq!(
        vico.call("/device/otastart/", start_body("")).await["result"],
        -2
    );
    let garbage = send_for_json(
        client()
            .post(format!("{}/device/otastart/", sim.url()))
            .header("Authorization", &vico.token)
            .header("Content-Type", "application/json")
            .body("not json"),
    )
    .await;
    assert_eq!(garbage["result"], -2);
    assert!(
        garbage["msg"]
            .as_str()
            .unwrap()
            .starts_with("Invalid parameters: "),
        "{garbage}"
    );

    // -100: unknown, and a device of another cloud is unknown to Vicohome too.
    for path in [
        "/device/otastart/",
        "/device/otastatus/",
        "/device/selectsingledevice",
    ] {
        let answer = vico.call(path, start_body("VCUNKNOWN000")).await;
        assert_eq!(answer["result"], -100, "{path}");
        assert_eq!(answer["msg"], "Device not found");
    }
    let quectel = devices(&sim)
        .await
        .into_iter()
        .find(|d| d["cloud"] == "quectel")
        .unwrap();
    assert_eq!(
        vico.start(quectel["id"].as_str().unwrap()).await["result"],
        -100
    );

    // -101: offline camera, and the offline fault.
    patch_device(&sim, serial, json!({"online": false})).await;
    let offline = vico.start(serial).await;
    assert_eq!(offline["result"], -101);
    assert_eq!(offline["msg"], "Device offline");
    let listed = vico.list().await;
    assert_eq!(
        listed.iter().find(|d| d["serialNumber"] == serial).unwrap()["online"],
        0
    );
    patch_device(&sim, serial, json!({"online": true})).await;
    add_fault(
        &sim,
        json!({"target": serial, "kind": "offline", "count": 1}),
    )
    .await;
    assert_eq!(vico.start(serial).await["result"], -101);

    // -102: already on the newest firmware, and the no-update fault.
    add_fault(
        &sim,
        json!({"target": serial, "kind": "vico_no_update", "count": 1}),
    )
    .await;
    assert_eq!(vico.start(serial).await["result"], -102);
    patch_device(&sim, serial, json!({"firmware": cam["newest_firmware"]})).await;
    let newest = vico.start(serial).await;
    assert_eq!(newest["result"], -102);
    assert_eq!(newest["msg"], "No update available");
    patch_device(&sim, serial, json!({"firmware": cam["firmware"]})).await;

    // -103: low battery while not charging (charging is fine), and the low_battery fault.
    patch_device(&sim, serial, json!({"battery": 12, "is_charging": false})).await;
    let low = vico.start(serial).await;
    assert_eq!(low["result"], -103);
    assert_eq!(low["msg"], "Insufficient battery level");
    patch_device(&sim, serial, json!({"battery": 80})).await;
    add_fault(&sim, json!({"target": serial, "kind": "low_battery"})).await;
    assert_eq!(vico.start(serial).await["result"], -103);
    let single = vico.select(serial).await;
    assert_eq!(single["data"]["batteryLevel"], 10);
    clear_faults(&sim).await;
    patch_device(&sim, serial, json!({"battery": 12, "is_charging": true})).await;
    assert_eq!(
        vico.start(serial).await["result"],
        0,
        "charging cameras may update"
    );

    // Offline in the middle of the update: status answers -101.
    add_fault(&sim, json!({"target": serial, "kind": "offline"})).await;
    assert_eq!(vico.status(serial).await["result"], -101);
    clear_faults(&sim).await;
    assert_eq!(vico.status(serial).await["result"], 0);

    // -1 and -2 forced by faults.
    add_fault(
        &sim,
        json!({"target": "*", "kind": "vico_general_error", "count": 1}),
    )
    .await;
    let general = vico.status(serial).await;
    assert_eq!(general["result"], -1);
    assert_eq!(general["msg"], "General error");
    add_fault(
        &sim,
        json!({"target": serial, "kind": "vico_invalid_params", "count": 1}),
    )
    .await;
    assert_eq!(vico.status(serial).await["result"], -2);
    assert_eq!(vico.status(serial).await["result"], 0, "count used up");
}

#[tokio::test]
async fn download_failure_then_retry() {
    let (sim, cam, vico) = camera_session(40, 42, 1000.0).await;
    let serial = cam["id"].as_str().unwrap();
    add_fault(&sim, json!({"target": serial, "kind": "download_fail"})).await;

    let seen = started_until_error(&vico, serial).await;
    let failed = seen.last().unwrap();
    assert_eq!(failed["result"], -10401, "{failed}");
    assert_eq!(failed["msg"], "Update download failed");
    assert_eq!(failed["data"]["otaStatus"], 4);
    assert_eq!(failed["data"]["inProgress"], false);
    let total = failed["data"]["totalSize"].as_u64().unwrap();
    let bytes = failed["data"]["transferredSize"].as_u64().unwrap();
    assert!(
        bytes * 100 / total >= 39 && bytes * 100 / total <= 41,
        "stops at ~40 %: {bytes}/{total}"
    );
    assert!(seen
        .iter()
        .all(|a| a["data"]["otaStatus"].as_u64() <= Some(1) || a["result"] != 0));

    // Still failing while the fault is on; after clearing, the retry walks to the end.
    let again = started_until_error(&vico, serial).await;
    assert_eq!(again.last().unwrap()["result"], -10401);
    clear_faults(&sim).await;
    assert_eq!(vico.start(serial).await["result"], 0);
    let done = poll_until(&vico, serial, |a| {
        a["data"]["otaStatus"] == 3 || a["result"] != 0
    })
    .await;
    assert_eq!(done.last().unwrap()["data"]["otaStatus"], 3);
    let listed = vico.list().await;
    assert_eq!(
        listed.iter().find(|d| d["serialNumber"] == serial).unwrap()["firmwareId"],
        cam["newest_firmware"]
    );
}

#[tokio::test]
async fn install_failure() {
    let (sim, cam, vico) = camera_session(40, 42, 1000.0).await;
    let serial = cam["id"].as_str().unwrap();
    add_fault(
        &sim,
        json!({"target": "*", "kind": "install_fail", "count": 1}),
    )
    .await;

    let seen = started_until_error(&vico, serial).await;
    let failed = seen.last().unwrap();
    assert_eq!(failed["result"], -10402, "{failed}");
    assert_eq!(failed["msg"], "Update installation failed");
    assert_eq!(failed["data"]["otaStatus"], 5);
    assert_eq!(
        failed["data"]["transferredSize"],
        failed["data"]["totalSize"]
    );
    let listed = vico.list().await;
    assert_eq!(
        listed.iter().find(|d| d["serialNumber"] == serial).unwrap()["firmwareId"],
        cam["firmware"],
        "a failed install leaves the old firmware"
    );
    // The count was one: the retry succeeds.
    assert_eq!(vico.start(serial).await["result"], 0);
    let done = poll_until(&vico, serial, |a| {
        a["data"]["otaStatus"] == 3 || a["result"] != 0
    })
    .await;
    assert_eq!(done.last().unwrap()["data"]["otaStatus"], 3);
}
