//! OneNET's report order and Content-Type rule as the vendor documents them: a 1xx after the download,
//! a 2xx after the upgrade began, errno 21 "invalid operation" for anything out of that order; and
//! `Content-Type: application/json` on the calls that carry a JSON body.

mod common;

use common::onenet::*;
use common::*;
use serde_json::{json, Value};

async fn state_of(d: &Onenet, task: &Value) -> (String, Value) {
    let now = d.task(&task["task_id"]).await;
    (
        now["state"].as_str().unwrap_or_default().to_string(),
        now["last_result"].clone(),
    )
}

fn result(code: u16) -> String {
    format!(r#"{{"result":{code}}}"#)
}

/// Each of these results, reported now, is refused as out of order (errno 21).
async fn assert_reports_refused(d: &Onenet, token: &str, codes: &[u16]) {
    for code in codes {
        assert_eq!(d.report(token, &result(*code)).await["errno"], 21, "{code}");
    }
}

#[tokio::test]
async fn a_2xx_while_downloading_is_refused_and_changes_nothing() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let (task, token) = d.downloading("V9", 64).await;
    let upgrade_results = [201, 202, 204, 205, 206, 208];
    assert_reports_refused(&d, &token, &upgrade_results).await;
    for code in upgrade_results {
        let step = format!(r#"{{"step":{code}}}"#);
        assert_eq!(d.progress(&token, &step).await["errno"], 21, "step {code}");
    }
    assert_eq!(
        state_of(&d, &task).await,
        ("downloading".into(), Value::Null)
    );
    // Still a live task: the download is reported, then the upgrade.
    assert_eq!(d.report(&token, &result(101)).await["errno"], 0);
    assert_eq!(d.report(&token, &result(201)).await["errno"], 0);
    assert_eq!(state_of(&d, &task).await, ("succeeded".into(), json!(201)));
}

#[tokio::test]
async fn a_1xx_while_pending_is_refused_and_the_task_stays_pending() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let (task, token) = d.pending("V9", 64).await;
    assert_reports_refused(&d, &token, &[101, 102, 104, 107, 201, 205]).await;
    assert_eq!(state_of(&d, &task).await, ("pending".into(), Value::Null));
    // The device's check still finds it: nothing was spoilt.
    assert_eq!(d.check(&d.token()).await["data"]["token"], token.as_str());
}

#[tokio::test]
async fn the_download_is_reported_once_and_before_the_upgrade() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;

    // 101 → upgrading; then no second 1xx, neither a repeat nor a failure.
    let (task, token) = d.downloading("V9", 64).await;
    assert_eq!(d.report(&token, &result(101)).await["errno"], 0);
    assert_eq!(state_of(&d, &task).await, ("upgrading".into(), json!(101)));
    assert_reports_refused(&d, &token, &[101, 104, 107]).await;
    assert_eq!(d.report(&token, &result(205)).await["errno"], 0);
    assert_eq!(state_of(&d, &task).await, ("failed".into(), json!(205)));

    // A download failure while downloading ends the task with that code.
    let (task, token) = d.downloading("V10", 64).await;
    assert_eq!(d.report(&token, &result(107)).await["errno"], 0);
    assert_eq!(state_of(&d, &task).await, ("failed".into(), json!(107)));
    assert_eq!(d.report(&token, &result(201)).await["errno"], 20);

    // The C SDK's order: progress step 100 begins the upgrade, its one 101 follows, then the 2xx.
    let (task, token) = d.downloading("V11", 64).await;
    assert_eq!(d.progress(&token, r#"{"step":100}"#).await["errno"], 0);
    assert_eq!(state_of(&d, &task).await, ("upgrading".into(), Value::Null));
    assert_eq!(d.report(&token, &result(101)).await["errno"], 0);
    assert_eq!(d.report(&token, &result(101)).await["errno"], 21);
    assert_eq!(d.report(&token, &result(201)).await["errno"], 0);
    assert_eq!(state_of(&d, &task).await, ("succeeded".into(), json!(201)));

    // Progress 100 alone begins the upgrade phase: a 2xx may follow without a 101.
    let (task, token) = d.downloading("V12", 64).await;
    assert_eq!(d.progress(&token, r#"{"step":100}"#).await["errno"], 0);
    assert_eq!(d.report(&token, &result(206)).await["errno"], 0);
    assert_eq!(state_of(&d, &task).await, ("failed".into(), json!(206)));
}

#[tokio::test]
async fn an_autonomous_device_reports_its_download_before_it_upgrades() {
    let sim = sim(60, 42, 1.0).await;
    let d = Onenet::first_online(&sim).await;
    let task = d.autonomous_task("V9", 64).await;
    let token = task["token"].as_str().unwrap().to_string();
    // Past the 2 s download, inside the 10 s upgrade.
    advance(&sim, 4_000).await;
    assert_eq!(state_of(&d, &task).await, ("upgrading".into(), json!(101)));
    assert_eq!(
        d.report(&token, &result(101)).await["errno"],
        21,
        "the device reported its download already"
    );
    advance(&sim, 10_000).await;
    assert_eq!(state_of(&d, &task).await, ("succeeded".into(), json!(201)));
}

#[tokio::test]
async fn json_bodies_need_content_type_application_json() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let (task, token) = d.downloading("V9", 64).await;
    let dev = &d.dev_id;
    let report = format!("/ota/south/report?dev_id={dev}&token={token}");
    let progress = format!("/ota/south/device/download/{token}/progress?dev_id={dev}");
    let version = format!("/ota/device/version?dev_id={dev}");
    // (path, body, errno for a body the endpoint cannot read)
    let calls = [
        (&progress, r#"{"step":40}"#, 24),
        (&report, r#"{"result":101}"#, 24),
        (&version, r#"{"f_version":"M7"}"#, 2),
    ];
    for (path, body, errno) in &calls {
        for wrong in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let answer = d.post_typed(path, &d.token(), body, wrong).await;
            assert_eq!(answer["errno"], *errno, "{path} with {wrong:?}: {answer}");
        }
    }
    // Nothing happened: the task did not move, the version was not recorded.
    let now = d.task(&task["task_id"]).await;
    assert_eq!(
        (now["state"].as_str(), now["step"].as_u64()),
        (Some("downloading"), Some(0))
    );
    assert_eq!(
        d.get(&version, &d.token()).await["data"]["f_version"],
        Value::Null
    );
    // The token is checked before the Content-Type: a stranger learns nothing more.
    let unsigned = d
        .post_typed(&report, "junk", r#"{"result":101}"#, None)
        .await;
    assert_eq!(unsigned["errno"], 1);

    // Media types are case-insensitive and may carry parameters.
    let typed = Some("Application/JSON; charset=UTF-8");
    for (path, body, _) in &calls {
        let answer = d.post_typed(path, &d.token(), body, typed).await;
        assert_eq!(answer["errno"], 0, "{path}: {answer}");
    }
    let now = d.task(&task["task_id"]).await;
    assert_eq!(now["state"], "upgrading");
    assert_eq!(d.get(&version, &d.token()).await["data"]["f_version"], "M7");
}

#[tokio::test]
async fn gets_carry_no_body_and_need_no_content_type() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let task = d.create_task(json!({"target": "V9", "size": 64})).await;
    let token = task["token"].as_str().unwrap();
    let dev = &d.dev_id;
    // `d.get` sends Authorization only, as OneNET's C SDK does on its GETs.
    assert_eq!(d.check(&d.token()).await["errno"], 0);
    assert_eq!(d.token_check(token).await["errno"], 0);
    let tasking = format!("/ota/south/tasking?dev_id={dev}&type=2");
    assert_eq!(d.get(&tasking, &d.token()).await["errno"], 0);
    let version = format!("/ota/device/version?dev_id={dev}");
    assert_eq!(d.get(&version, &d.token()).await["errno"], 0);
    let file = d.download(token, Some("bytes=0-9")).send().await.unwrap();
    assert_eq!(file.status(), 206);
    // And a client that sends it on every call, as OTA Console does, is served the same.
    let typed = send_for_json(
        client()
            .get(d.url(&tasking))
            .header("Authorization", d.token())
            .header("Content-Type", "application/json"),
    )
    .await;
    assert_eq!(typed["errno"], 0);
    assert_eq!(typed["data"]["token"], token);
}
