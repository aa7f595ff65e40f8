//! Generic faults on cloud calls, the admin fault API and the call log.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

async fn list_raw(vico: &Vico) -> reqwest::Response {
    vico.raw(
        "/device/listuserdevices",
        json!({"language": "en", "countryNo": "US"}),
    )
    .await
}

/// Lists the cameras once under a one-shot fault of `kind` on every call.
async fn list_under(sim: &SimHandle, vico: &Vico, kind: &str) -> reqwest::Response {
    fault_once(sim, kind, "*").await;
    list_raw(vico).await
}

#[tokio::test]
async fn http_faults_and_spoiled_bodies() {
    let sim = sim(30, 42, 1.0).await;
    let vico = Vico::login(&sim).await;
    let full = list_raw(&vico).await.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&full).is_ok());

    let limited = list_under(&sim, &vico, "http_429").await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "1");

    assert_eq!(list_under(&sim, &vico, "http_5xx").await.status(), 503);

    let malformed = list_under(&sim, &vico, "malformed_body").await;
    assert_eq!(malformed.status(), 200);
    let body = malformed.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "not JSON");

    let truncated = list_under(&sim, &vico, "truncated_body").await;
    assert_eq!(truncated.status(), 200);
    let body = truncated.bytes().await.unwrap();
    assert_eq!(
        &body[..],
        &full[..full.len() / 2],
        "the real body, cut in half"
    );
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    let healthy = list_raw(&vico).await;
    assert_eq!(healthy.status(), 200, "every count used up");
    assert_eq!(healthy.bytes().await.unwrap(), full);

    let outcomes: Vec<String> = log(&sim)
        .await
        .iter()
        .filter(|e| e["endpoint"] == "/device/listuserdevices")
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        outcomes,
        [
            "ok",
            "http_429",
            "http_503",
            "malformed_body",
            "truncated_body",
            "ok"
        ]
    );
}

#[tokio::test]
async fn targeted_faults_hit_only_their_device() {
    let sim = sim(30, 42, 1.0).await;
    let vico = Vico::login(&sim).await;
    let cams: Vec<Value> = fleet_of(&sim, "vicohome").await;
    let (a, b) = (
        cams[0]["id"].as_str().unwrap(),
        cams[1]["id"].as_str().unwrap(),
    );
    add_fault(&sim, json!({"target": a, "kind": "http_5xx"})).await;
    for _ in 0..3 {
        let hit = vico
            .raw("/device/otastatus/", json!({"serialNumber": a}))
            .await;
        assert_eq!(hit.status(), 503);
    }
    let spared = vico
        .raw("/device/otastatus/", json!({"serialNumber": b}))
        .await;
    assert_eq!(spared.status(), 200);
    // A call that names no device is only reached by "*" faults.
    assert_eq!(list_raw(&vico).await.status(), 200);

    let active = get_json(format!("{}/_sim/faults", sim.url())).await;
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["kind"], "http_5xx");
    assert_eq!(active[0]["target"], a);
    let cleared = send_for_json(client().delete(format!("{}/_sim/faults", sim.url()))).await;
    assert_eq!(cleared["cleared"], 1);
    assert_eq!(
        vico.raw("/device/otastatus/", json!({"serialNumber": a}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn admin_calls_are_never_faulted_nor_logged() {
    let sim = sim(10, 42, 1.0).await;
    add_fault(&sim, json!({"target": "*", "kind": "http_5xx"})).await;
    assert_eq!(devices(&sim).await.len(), 10);
    get_json(format!("{}/_sim/accounts", sim.url())).await;
    assert!(log(&sim).await.is_empty());
    // The cloud call fails with 503 (no JSON), but it is logged.
    let response = client()
        .post(format!("{}/account/login", sim.url()))
        .json(&json!({"email": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let entries = log(&sim).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["outcome"], "http_503");
    assert_eq!(entries[0]["endpoint"], "/account/login");
    let cleared = send_for_json(client().delete(format!("{}/_sim/log", sim.url()))).await;
    assert_eq!(cleared["cleared"], 1);
    assert!(log(&sim).await.is_empty());
}

#[tokio::test]
async fn slow_answers_late() {
    let sim = sim_with(SimConfig {
        devices: 10,
        slow_delay: Duration::from_millis(400),
        faults: vec!["slow:*:1".parse().unwrap()],
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let vico = Vico::login(&sim).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    let again = Instant::now();
    vico.list().await;
    assert!(
        again.elapsed() < Duration::from_millis(400),
        "count used up"
    );
    let entries = log(&sim).await;
    assert_eq!(entries[0]["slow"], true);
    assert_eq!(entries[1]["slow"], false);
}

#[tokio::test]
async fn bad_fault_requests_are_refused() {
    let sim = sim(10, 42, 1.0).await;
    for body in [
        json!({"target": "*", "kind": "meteor_strike"}),
        json!({"target": "*", "kind": "slow", "count": 0}),
        json!({"target": "*"}),
    ] {
        let response = client()
            .post(format!("{}/_sim/faults", sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].is_string());
    }
    // Target defaults to every device.
    let fault = add_fault(&sim, json!({"kind": "offline"})).await;
    assert_eq!(fault["target"], "*");
    let patched = client()
        .post(format!("{}/_sim/devices/nope", sim.url()))
        .json(&json!({"online": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 404);
}

/// The admin API is reachable by the desktop app's own tests and tools, never by a web page: only a
/// loopback `Host` (no DNS rebinding) and only JSON state changes (no cross-site form posts).
#[tokio::test]
async fn the_admin_api_refuses_foreign_hosts_and_non_json_posts() {
    let sim = common::sim(10, 1, 1.0).await;
    let url = format!("{}/_sim/faults", sim.url());
    let rebinding = client()
        .get(&url)
        .header("Host", "attacker.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);
    // (Content-Type, body): a state change that is not JSON.
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", "kind=offline"),
        ("text/plain", r#"{"kind":"offline"}"#),
    ] {
        let request = client().post(&url).header("Content-Type", content_type);
        let refused = request.body(body).send().await.unwrap();
        assert_eq!(refused.status(), 415, "{content_type}");
    }
    let faults = send_for_json(client().get(&url)).await;
    assert_eq!(
        faults.as_array().map(Vec::len),
        Some(0),
        "nothing was switched on: {faults}"
    );
    // The same call as JSON from a loopback host works.
    let ok = client()
        .post(&url)
        .json(&json!({"kind": "offline"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}
