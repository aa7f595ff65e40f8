//! OneNET's device-side OTA API over HTTP, checked against the seed and the shared notes: the check
//! answer's shape and errnos, tasking, the download token's life, the report and progress state
//! machine, device versions, real token checks on every endpoint, the management endpoints, the
//! sandbox's default tasks, and faults on device-side calls.

mod common;

use common::onenet::*;
use common::*;
use ota_sim::onenet::auth::{sign_token, SignMethod};
use serde::Deserialize;
use serde_json::{json, Value};

/// The seed's check answer, verbatim.
const SEED_CHECK: &str = r#"{
    "errno": 0,
    "error": "succ",
    "data": {
        "target": "V1",
        "token": "ota_iF0hnXrq2CxLrP8vZ39l",
        "size": 22,
        "md5": "ad2f4e4ea2a27eace7e4913139f8f01a",
        "signal": 10,
        "power": 50,
        "retry": 0,
        "interval": 0,
        "type": 1
    }
}"#;

/// The seed's check answer as a strict client reads it: these fields, these types, nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedCheck {
    errno: i64,
    error: String,
    data: SeedTask,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct SeedTask {
    target: String,
    token: String,
    size: u64,
    md5: String,
    signal: i64,
    power: i64,
    retry: i64,
    interval: i64,
    #[serde(rename = "type")]
    kind: i64,
}

const DAY_MS: u64 = 24 * 3600 * 1000;

#[tokio::test]
async fn the_check_answers_in_the_seeds_shape() {
    let seed: SeedCheck = serde_json::from_str(SEED_CHECK).unwrap();
    assert_eq!((seed.errno, seed.error.as_str()), (0, "succ"));

    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let made = d
        .create_task(json!({"target": "V1", "size": 22, "signal": 10, "power": 50, "retry": 0, "interval": 0}))
        .await;
    let raw = client()
        .get(d.url(&format!(
            "/ota/south/check?dev_id={}&manuf={}&model={}&type=2&version={}&cdn=false",
            d.dev_id, d.manuf, d.model, d.version
        )))
        .header("Authorization", d.token())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let body = raw.bytes().await.unwrap();
    let answer: SeedCheck = serde_json::from_slice(&body).unwrap();
    assert_eq!((answer.errno, answer.error.as_str()), (0, "succ"));
    let data = answer.data;
    assert_eq!(
        (data.target.as_str(), data.size, data.kind),
        ("V1", 22, 1),
        "a full package is type 1, as in the seed"
    );
    assert_eq!(
        (data.signal, data.power, data.retry, data.interval),
        (
            seed.data.signal,
            seed.data.power,
            seed.data.retry,
            seed.data.interval
        )
    );
    assert_eq!(data.token, made["token"].as_str().unwrap());
    assert_eq!(data.token.len(), seed.data.token.len());
    assert!(data.token.starts_with("ota_"));
    assert!(data.token[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(data.md5, made["md5"].as_str().unwrap());
    assert_eq!(data.md5.len(), seed.data.md5.len());
    assert!(data
        .md5
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));

    // A difference package is type 2.
    d.create_task(
        json!({"target": "V2", "size": 64, "package": "diff", "from_version": d.version}),
    )
    .await;
    let diff: SeedCheck = serde_json::from_value(d.check(&d.token()).await).unwrap();
    assert_eq!((diff.data.target.as_str(), diff.data.kind), ("V2", 2));

    // cdn=true adds ipPort: where this server is.
    let cdn = d
        .get(
            &format!("/ota/south/check?dev_id={}&type=2&cdn=true", d.dev_id),
            &d.token(),
        )
        .await;
    assert_eq!(cdn["errno"], 0);
    assert_eq!(cdn["data"]["ipPort"], sim.addr().to_string());
    assert!(
        cdn.to_string().len() < 512,
        "fits the C SDK's buffer: {cdn}"
    );
}

#[tokio::test]
async fn check_errnos() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let auth = d.token();
    let q = |query: String| format!("/ota/south/check?{query}");
    // 2: no dev_id, a dev_id that is no number, no type or a bad one.
    for query in [
        "type=2".to_string(),
        "dev_id=abc&type=2".to_string(),
        format!("dev_id={}", d.dev_id),
        format!("dev_id={}&type=3", d.dev_id),
    ] {
        assert_eq!(d.get(&q(query.clone()), &auth).await["errno"], 2, "{query}");
    }
    // 1: a device OneNET does not know (a Quectel IMEI is numeric but not OneNET's).
    let quectel = devices(&sim)
        .await
        .into_iter()
        .find(|x| x["cloud"] == "quectel")
        .unwrap();
    for id in ["1", quectel["id"].as_str().unwrap()] {
        assert_eq!(
            d.get(&q(format!("dev_id={id}&type=2")), &auth).await["errno"],
            1
        );
    }
    // 27: a version outside [A-Za-z0-9_.-]{1,20}.
    for version in ["V%201", "V1/2", "123456789012345678901"] {
        let query = format!("dev_id={}&type=2&version={version}", d.dev_id);
        assert_eq!(d.get(&q(query), &auth).await["errno"], 27, "{version}");
    }
    // 11: no module task.
    let module = format!("dev_id={}&type=1&cdn=true", d.dev_id);
    assert_eq!(d.get(&q(module.clone()), &auth).await["errno"], 11);

    // 8: manuf or model sent and different: the task fails.
    for (manuf, model) in [("999", d.model.as_str()), (d.manuf.as_str(), "99999")] {
        let task = d.create_task(json!({"target": "V9", "size": 64})).await;
        let query = format!(
            "dev_id={}&manuf={manuf}&model={model}&type=2&version={}",
            d.dev_id, d.version
        );
        assert_eq!(d.get(&q(query), &auth).await["errno"], 8);
        assert_eq!(d.task(&task["task_id"]).await["state"], "failed");
        assert_eq!(d.check(&auth).await["errno"], 11, "nothing left");
    }

    // 9: a diff package for another version: the task fails.
    let diff = d
        .create_task(
            json!({"target": "V9", "size": 64, "package": "diff", "from_version": "V0.0.1"}),
        )
        .await;
    assert_eq!(d.check(&auth).await["errno"], 9);
    assert_eq!(d.task(&diff["task_id"]).await["state"], "failed");

    // The C SDK sends no manuf/model: they are not compared.
    d.create_task(json!({"target": "M2", "size": 64, "type": 1, "manuf": "101", "model": "10101"}))
        .await;
    let sdk = d.get(&q(module), &auth).await;
    assert_eq!(sdk["errno"], 0, "{sdk}");
    assert_eq!(sdk["data"]["target"], "M2");

    // A paused task is not offered; resumed, it is.
    let paused = d.create_task(json!({"target": "V8", "size": 64})).await;
    post_json(
        d.url(&format!("/_sim/onenet/tasks/{}/pause", paused["task_id"])),
        json!({}),
    )
    .await;
    assert_eq!(d.check(&auth).await["errno"], 11);
    post_json(
        d.url(&format!("/_sim/onenet/tasks/{}/resume", paused["task_id"])),
        json!({}),
    )
    .await;
    assert_eq!(d.check(&auth).await["data"]["target"], "V8");

    // 11 when the device already runs the target: the task succeeds, the device is on it.
    let query = format!("dev_id={}&type=2&version=V8", d.dev_id);
    assert_eq!(d.get(&q(query), &auth).await["errno"], 11);
    assert_eq!(d.task(&paused["task_id"]).await["state"], "succeeded");
    let device = get_json(d.url(&format!("/_sim/devices/{}", d.dev_id))).await;
    assert_eq!(device["firmware"], "V8");
}

#[tokio::test]
async fn tasking_and_the_download_tokens_two_days() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let tasking = format!("/ota/south/tasking?dev_id={}&type=2", d.dev_id);
    d.create_task(json!({"target": "V9", "size": 64, "type": 1}))
        .await;
    let module = format!("/ota/south/tasking?dev_id={}&type=1", d.dev_id);
    assert_eq!(d.get(&module, &d.token()).await["errno"], 4, "pending");

    let (_, token) = d.pending("V9", 64).await;
    assert_eq!(d.get(&tasking, &d.token()).await["errno"], 4, "pending");
    let checked = d.check(&d.token()).await;
    assert_eq!(d.token_check(&token).await["errno"], 0);
    let busy = d.get(&tasking, &d.token()).await;
    assert_eq!(busy["errno"], 0);
    assert_eq!(busy["data"], checked["data"]);
    let no_type = format!("/ota/south/tasking?dev_id={}", d.dev_id);
    assert_eq!(d.get(&no_type, &d.token()).await["data"]["token"], token);

    advance(&sim, 2 * DAY_MS + 1000).await;
    assert_eq!(d.get(&tasking, &d.token()).await["errno"], 12);
    assert_eq!(d.token_check(&token).await["errno"], 12);
    assert_eq!(d.progress(&token, r#"{"step":5}"#).await["errno"], 12);
    assert_eq!(d.report(&token, r#"{"result":101}"#).await["errno"], 1);
    let body = d.download(&token, None).send().await.unwrap();
    assert_eq!(&body.bytes().await.unwrap()[..], b"3");

    // A check hands out a new token for two more days.
    let again = d.check(&d.token()).await;
    assert_eq!(again["errno"], 0);
    let fresh = again["data"]["token"].as_str().unwrap().to_string();
    assert_ne!(fresh, token);
    assert_eq!(d.token_check(&fresh).await["errno"], 0);
    assert_eq!(d.get(&tasking, &d.token()).await["data"]["token"], fresh);
    assert_eq!(
        d.token_check(&token).await["errno"],
        4,
        "the old one is gone"
    );

    // Finished: none in progress.
    assert_eq!(d.report(&fresh, r#"{"result":104}"#).await["errno"], 0);
    assert_eq!(d.get(&tasking, &d.token()).await["errno"], 11);
}

#[tokio::test]
async fn the_report_state_machine_and_its_errnos() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let other = Onenet::nth(&sim, 1).await;
    let made = d.create_task(json!({"target": "V9", "size": 64})).await;
    let token = made["token"].as_str().unwrap().to_string();
    let id = &made["task_id"];
    assert_eq!(d.task(id).await["state"], "pending");
    assert_eq!(d.report(&token, r#"{"result":201}"#).await["errno"], 21);
    assert_eq!(d.token_check(&token).await["errno"], 0);
    assert_eq!(d.task(id).await["state"], "downloading");
    assert_eq!(d.token_check(&token).await["errno"], 0, "repeating is fine");
    assert_eq!(d.report(&token, r#"{"result":201}"#).await["errno"], 21);
    for unknown in [r#"{"result":299}"#, r#"{"result":100}"#, r#"{"result":0}"#] {
        assert_eq!(d.report(&token, unknown).await["errno"], 2, "{unknown}");
    }
    for bad in [
        r#"{"result":"101"}"#,
        r#"{"result":1.5}"#,
        r#"{"code":101}"#,
        "not json",
        "",
    ] {
        assert_eq!(d.report(&token, bad).await["errno"], 24, "{bad:?}");
    }
    // A download token no task has: 1. Another device's: 21 (and 4 on its token check).
    assert_eq!(
        d.report("ota_AAAAAAAAAAAAAAAAAAAA", r#"{"result":101}"#)
            .await["errno"],
        1
    );
    let theirs = other.create_task(json!({"target": "V9", "size": 64})).await;
    let theirs = theirs["token"].as_str().unwrap();
    assert_eq!(d.report(theirs, r#"{"result":101}"#).await["errno"], 21);
    assert_eq!(d.token_check(theirs).await["errno"], 4);
    let no_token = format!("/ota/south/report?dev_id={}", d.dev_id);
    assert_eq!(
        d.post(&no_token, &d.token(), r#"{"result":101}"#).await["errno"],
        2
    );

    // The seed's body, with its blank line.
    assert_eq!(
        d.report(&token, "{\n    \"result\": 101\n\n}").await["errno"],
        0
    );
    assert_eq!(d.task(id).await["state"], "upgrading");
    assert_eq!(d.token_check(&token).await["errno"], 0, "still valid");
    assert_eq!(d.report(&token, r#"{"result":201}"#).await["errno"], 0);
    let done = d.task(id).await;
    assert_eq!(
        (done["state"].as_str(), done["last_result"].as_i64()),
        (Some("succeeded"), Some(201))
    );
    assert_eq!(d.report(&token, r#"{"result":201}"#).await["errno"], 20);
    assert_eq!(d.report(&token, r#"{"result":299}"#).await["errno"], 20);
    assert_eq!(d.token_check(&token).await["errno"], 20);
    let device = get_json(d.url(&format!("/_sim/devices/{}", d.dev_id))).await;
    assert_eq!(device["firmware"], "V9", "the device runs the target now");

    // Failures: 1xx while downloading, 2xx while upgrading; then 20.
    for (first, then) in [(104, None), (101, Some(205))] {
        let (task, token) = d.downloading("V10", 64).await;
        assert_eq!(
            d.report(&token, &format!(r#"{{"result":{first}}}"#)).await["errno"],
            0
        );
        if let Some(code) = then {
            assert_eq!(
                d.report(&token, &format!(r#"{{"result":{code}}}"#)).await["errno"],
                0
            );
        }
        let failed = d.task(&task["task_id"]).await;
        assert_eq!(failed["state"], "failed");
        assert_eq!(failed["last_result"], then.unwrap_or(first));
        assert_eq!(d.report(&token, r#"{"result":201}"#).await["errno"], 20);
    }

    // Cancelled: 22 for the report and the token check.
    let next = d.create_task(json!({"target": "V11", "size": 64})).await;
    let next_token = next["token"].as_str().unwrap().to_string();
    post_json(
        d.url(&format!("/_sim/onenet/tasks/{}/cancel", next["task_id"])),
        json!({}),
    )
    .await;
    assert_eq!(
        d.report(&next_token, r#"{"result":101}"#).await["errno"],
        22
    );
    assert_eq!(d.token_check(&next_token).await["errno"], 22);
    assert_eq!(d.progress(&next_token, r#"{"step":1}"#).await["errno"], 22);
}

#[tokio::test]
async fn the_sdks_progress_path() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let (task, token) = d.pending("V11", 64).await;
    let id = &task["task_id"];
    assert_eq!(
        d.progress(&token, r#"{"step":10}"#).await["errno"],
        17,
        "not downloading yet"
    );
    assert_eq!(
        d.progress("ota_AAAAAAAAAAAAAAAAAAAA", r#"{"step":10}"#)
            .await["errno"],
        4
    );
    d.token_check(&token).await;
    for bad in [r#"{"step":"x"}"#, r#"{"step":-1}"#, "{}", "nope"] {
        assert_eq!(d.progress(&token, bad).await["errno"], 24, "{bad}");
    }
    assert_eq!(d.progress(&token, r#"{"step":40}"#).await["errno"], 0);
    assert_eq!(d.task(id).await["step"], 40);
    assert_eq!(d.progress(&token, r#"{"step":299}"#).await["errno"], 2);
    assert_eq!(d.progress(&token, r#"{"step":100}"#).await["errno"], 0);
    let upgrading = d.task(id).await;
    assert_eq!(
        (upgrading["state"].as_str(), upgrading["step"].as_u64()),
        (Some("upgrading"), Some(100))
    );
    assert_eq!(
        d.progress(&token, r#"{"step":50}"#).await["errno"],
        17,
        "percent only while downloading"
    );
    assert_eq!(d.progress(&token, r#"{"step":201}"#).await["errno"], 0);
    assert_eq!(d.task(id).await["state"], "succeeded");
    assert_eq!(d.progress(&token, r#"{"step":40}"#).await["errno"], 20);
    let device = get_json(d.url(&format!("/_sim/devices/{}", d.dev_id))).await;
    assert_eq!(device["firmware"], "V11");

    // Result codes through the progress path keep the report's order: no 2xx while downloading.
    let (task, token) = d.downloading("V12", 64).await;
    assert_eq!(d.progress(&token, r#"{"step":204}"#).await["errno"], 21);
    assert_eq!(d.task(&task["task_id"]).await["state"], "downloading");
    assert_eq!(d.progress(&token, r#"{"step":106}"#).await["errno"], 0);
    let failed = d.task(&task["task_id"]).await;
    assert_eq!(
        (failed["state"].as_str(), failed["last_result"].as_i64()),
        (Some("failed"), Some(106))
    );
}

#[tokio::test]
async fn device_versions() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let version = format!("/ota/device/version?dev_id={}", d.dev_id);
    let read = d.get(&version, &d.token()).await;
    assert_eq!(read["errno"], 0);
    assert_eq!(
        read["data"],
        json!({"f_version": null, "s_version": d.version})
    );

    assert_eq!(
        d.post(
            &version,
            &d.token(),
            r#"{"f_version":"M1","s_version":"V7"}"#
        )
        .await["errno"],
        0
    );
    let read = d.get(&version, &d.token()).await;
    assert_eq!(read["data"], json!({"f_version": "M1", "s_version": "V7"}));
    let device = get_json(d.url(&format!("/_sim/devices/{}", d.dev_id))).await;
    assert_eq!(device["firmware"], "V7");

    for (body, errno) in [
        ("{}", 2),
        ("nope", 2),
        (r#"{"s_version":7}"#, 2),
        (r#"{"s_version":"V 7"}"#, 27),
        (
            r#"{"f_version":"M1","s_version":"123456789012345678901"}"#,
            27,
        ),
    ] {
        assert_eq!(
            d.post(&version, &d.token(), body).await["errno"],
            errno,
            "{body}"
        );
    }

    // Reporting a task's target completes it (module and application alike).
    let module = d
        .create_task(json!({"target": "M2", "size": 64, "type": 1}))
        .await;
    let app = d.create_task(json!({"target": "V12", "size": 64})).await;
    assert_eq!(
        d.post(&version, &d.token(), r#"{"f_version":"M2"}"#).await["errno"],
        0
    );
    assert_eq!(d.task(&module["task_id"]).await["state"], "succeeded");
    assert_eq!(d.task(&app["task_id"]).await["state"], "pending");
    assert_eq!(
        d.post(&version, &d.token(), r#"{"s_version":"V12"}"#).await["errno"],
        0
    );
    assert_eq!(d.task(&app["task_id"]).await["state"], "succeeded");

    // A module task that succeeds moves f_version, not the application's firmware.
    let task = d
        .create_task(json!({"target": "M3", "size": 64, "type": 1}))
        .await;
    let token = task["token"].as_str().unwrap();
    d.token_check(token).await;
    d.report(token, r#"{"result":101}"#).await;
    assert_eq!(d.report(token, r#"{"result":201}"#).await["errno"], 0);
    let read = d.get(&version, &d.token()).await;
    assert_eq!(read["data"], json!({"f_version": "M3", "s_version": "V12"}));
}

#[tokio::test]
async fn tampered_expired_or_missing_tokens_get_errno_1_everywhere() {
    let (_sim, d) = Onenet::first_of_a_fresh_sim().await;
    let (_, token) = d.downloading("V9", 64).await;
    let good = d.token();
    let tampered = good.replace("method=sha1", "method=md5");
    let expired = d.token_at(now() - 10);
    let other_key = sign_token(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        &format!("products/{}", d.product_id),
        now() + HOUR,
        SignMethod::Sha256,
    )
    .unwrap();
    let other_product =
        sign_token(&d.key, "products/1234567", now() + HOUR, SignMethod::Sha256).unwrap();
    let dev = &d.dev_id;
    let gets = [
        format!("/ota/south/check?dev_id={dev}&type=2"),
        format!("/ota/south/tasking?dev_id={dev}&type=2"),
        format!("/ota/south/download/{token}/check?dev_id={dev}"),
        format!("/ota/device/version?dev_id={dev}"),
    ];
    let posts = [
        (
            format!("/ota/south/report?dev_id={dev}&token={token}"),
            r#"{"result":101}"#,
        ),
        (
            format!("/ota/south/device/download/{token}/progress?dev_id={dev}"),
            r#"{"step":10}"#,
        ),
        (
            format!("/ota/device/version?dev_id={dev}"),
            r#"{"s_version":"V1"}"#,
        ),
    ];
    for bad in [
        tampered.as_str(),
        expired.as_str(),
        other_key.as_str(),
        other_product.as_str(),
        "junk",
    ] {
        for path in &gets {
            assert_eq!(d.get(path, bad).await["errno"], 1, "{path} with {bad:?}");
        }
        for (path, body) in &posts {
            assert_eq!(
                d.post(path, bad, body).await["errno"],
                1,
                "{path} with {bad:?}"
            );
        }
        // The download: an Authorization that is sent must be valid.
        let body = send_for_bytes(
            client()
                .get(d.url(&format!("/ota/south/download/{token}")))
                .header("Authorization", bad),
        )
        .await;
        assert_eq!(&body[..], b"3", "download with {bad:?}");
    }
    for path in &gets {
        let answer = client().get(d.url(path)).send().await.unwrap();
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(answer["errno"], 1, "{path} without Authorization");
    }
    assert_eq!(
        task_count_with_state(&d, "downloading").await,
        1,
        "untouched"
    );

    // Accepted: raw (not URL-encoded), a device-scoped token signed with the product key, md5 and
    // sha256, and no Authorization at all on the download (the token is the credential there).
    let raw = good
        .replace("%2F", "/")
        .replace("%3D", "=")
        .replace("%2B", "+");
    let device_res = sign_token(
        &d.key,
        &format!("products/{}/devices/{}", d.product_id, d.name),
        now() + HOUR,
        SignMethod::Sha256,
    )
    .unwrap();
    let md5 = sign_token(
        &d.key,
        &format!("products/{}", d.product_id),
        now() + HOUR,
        SignMethod::Md5,
    )
    .unwrap();
    for ok in [raw, device_res, md5] {
        for path in &gets {
            assert_eq!(d.get(path, &ok).await["errno"], 0, "{path} with {ok}");
        }
    }
    let bare = client()
        .get(d.url(&format!("/ota/south/download/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
    assert_eq!(bare.bytes().await.unwrap().len(), 64);
}

async fn task_count_with_state(d: &Onenet, state: &str) -> usize {
    get_json(d.url(&format!("/_sim/onenet/tasks?dev_id={}", d.dev_id)))
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == state)
        .count()
}

#[tokio::test]
async fn management_endpoints() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let tasks = d.url("/_sim/onenet/tasks");

    let accounts = get_json(d.url("/_sim/accounts")).await;
    let products = get_json(d.url("/_sim/onenet/products")).await;
    assert_eq!(products, accounts["onenet"]["products"]);
    assert!(products[0]["product_id"].is_string() && products[0]["access_key"].is_string());

    let vico = devices(&sim)
        .await
        .into_iter()
        .find(|x| x["cloud"] == "vicohome")
        .unwrap();
    for body in [
        json!({"dev_id": "1", "target": "V2"}),
        json!({"dev_id": vico["id"], "target": "V2"}),
        json!({"dev_id": d.dev_id, "target": "V 2"}),
        json!({"dev_id": d.dev_id, "target": ""}),
        json!({"dev_id": d.dev_id, "target": "123456789012345678901"}),
        json!({"dev_id": d.dev_id, "target": "V2", "size": 0}),
        json!({"dev_id": d.dev_id, "target": "V2", "size": 512 * 1024 * 1024 + 1}),
        json!({"dev_id": d.dev_id, "target": "V2", "size": -1}),
        json!({"dev_id": d.dev_id, "target": "V2", "type": 3}),
        json!({"dev_id": d.dev_id, "target": "V2", "package": "diff"}),
        json!({"dev_id": d.dev_id, "target": "V2", "package": "delta", "from_version": "V1"}),
        json!({"dev_id": d.dev_id, "target": "V2", "package": "diff", "from_version": "V/1"}),
        json!({"dev_id": d.dev_id, "target": "V2", "colour": "red"}),
        json!({"target": "V2"}),
    ] {
        let response = client().post(&tasks).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["error"].is_string(), "{body}");
    }

    let first = d
        .create_task(json!({"target": "V2", "size": 1000, "signal": 3, "power": 20, "retry": 2, "interval": 30}))
        .await;
    let expected_keys = [
        "autonomous",
        "bytes_served",
        "created_ms",
        "dev_id",
        "error",
        "from_version",
        "id",
        "interval",
        "last_result",
        "manuf",
        "md5",
        "model",
        "package",
        "power",
        "product_id",
        "progress",
        "result",
        "retry",
        "signal",
        "size",
        "state",
        "step",
        "target",
        "task_id",
        "token",
        "type",
        "updated_ms",
    ];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, expected_keys);
    assert_eq!(first["dev_id"], d.dev_id);
    assert_eq!(first["product_id"], d.product_id);
    assert_eq!(
        (first["type"].as_u64(), first["package"].as_str()),
        (Some(2), Some("full"))
    );
    assert_eq!(
        (first["manuf"].as_str(), first["model"].as_str()),
        (Some(d.manuf.as_str()), Some(d.model.as_str()))
    );
    assert_eq!(
        (first["size"].as_u64(), first["state"].as_str()),
        (Some(1000), Some("pending"))
    );
    assert_eq!(
        (first["bytes_served"].as_u64(), first["step"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(first["last_result"].is_null() && first["from_version"].is_null());
    assert_eq!(first["token"].as_str().unwrap().len(), 24);
    let check = d.check(&d.token()).await;
    assert_eq!(
        (
            check["data"]["signal"].as_i64(),
            check["data"]["power"].as_i64(),
            check["data"]["retry"].as_i64(),
            check["data"]["interval"].as_i64()
        ),
        (Some(3), Some(20), Some(2), Some(30))
    );

    // A new task of the same type replaces the unfinished one; another type does not.
    let module = d
        .create_task(json!({"target": "M1", "size": 10, "type": 1}))
        .await;
    let second = d
        .create_task(
            json!({"target": "V3", "size": 10, "package": "diff", "from_version": d.version}),
        )
        .await;
    assert_eq!(second["package"], "diff");
    assert_eq!(second["from_version"], d.version);
    assert_eq!(d.task(&first["task_id"]).await["state"], "cancelled");
    assert_eq!(d.task(&module["task_id"]).await["state"], "pending");
    assert_ne!(second["md5"], first["md5"]);

    let mine = get_json(format!("{tasks}?dev_id={}", d.dev_id)).await;
    let mine = mine.as_array().unwrap();
    assert!(mine.iter().all(|t| t["dev_id"] == d.dev_id));
    assert!(mine.len() >= 3);
    let all = get_json(tasks.clone()).await;
    assert!(all.as_array().unwrap().len() >= mine.len());
    let missing = client()
        .get(format!("{tasks}/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Pause (pending or downloading) and resume to where it was; cancel; 409 when not allowed.
    let token = second["token"].as_str().unwrap();
    d.token_check(token).await;
    let action = |id: &Value, what: &str| {
        let url = format!("{tasks}/{id}/{what}");
        // The admin API takes state changes as JSON only (no cross-site form posts).
        async move { client().post(url).json(&json!({})).send().await.unwrap() }
    };
    let paused = action(&second["task_id"], "pause").await;
    assert_eq!(paused.status(), 200);
    assert_eq!(paused.json::<Value>().await.unwrap()["state"], "paused");
    assert_eq!(d.token_check(token).await["errno"], 17);
    assert_eq!(&send_for_bytes(d.download(token, None)).await[..], b"3");
    assert_eq!(action(&second["task_id"], "pause").await.status(), 409);
    let resumed = action(&second["task_id"], "resume").await;
    assert_eq!(
        resumed.json::<Value>().await.unwrap()["state"],
        "downloading"
    );
    assert_eq!(action(&second["task_id"], "resume").await.status(), 409);
    let cancelled = action(&second["task_id"], "cancel").await;
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["state"],
        "cancelled"
    );
    assert_eq!(action(&second["task_id"], "cancel").await.status(), 409);
    assert_eq!(action(&second["task_id"], "pause").await.status(), 409);
    assert_eq!(&send_for_bytes(d.download(token, None)).await[..], b"1");
    assert_eq!(action(&json!(999999), "cancel").await.status(), 404);
}

#[tokio::test]
async fn the_sandbox_has_a_task_for_every_device_behind() {
    let sim = sim(120, 42, 1.0).await;
    let tasks = get_json(format!("{}/_sim/onenet/tasks", sim.url())).await;
    let tasks = tasks.as_array().unwrap();
    let onenet: Vec<Value> = fleet_of(&sim, "onenet").await;
    let behind: Vec<&Value> = onenet
        .iter()
        .filter(|d| d["firmware"] != d["newest_firmware"])
        .collect();
    assert!(!behind.is_empty() && behind.len() < onenet.len());
    assert_eq!(tasks.len(), behind.len());
    for device in &behind {
        let task = tasks
            .iter()
            .find(|t| t["dev_id"] == device["id"])
            .expect("a task");
        assert_eq!(task["target"], device["newest_firmware"]);
        assert_eq!(task["product_id"], device["product_key"]);
        assert_eq!(task["manuf"], device["manufacturer"]);
        assert_eq!(task["model"], device["model"]);
        assert_eq!(
            (
                task["type"].as_u64(),
                task["package"].as_str(),
                task["state"].as_str()
            ),
            (Some(2), Some("full"), Some("pending"))
        );
        let size = task["size"].as_u64().unwrap();
        assert!((256 * 1024..2 * 1024 * 1024).contains(&size), "{size}");
    }

    // The same seed gives the same tasks and packages (tokens are random).
    let twin = common::sim(120, 42, 1.0).await;
    let twin_tasks = get_json(format!("{}/_sim/onenet/tasks", twin.url())).await;
    let shape = |t: &Value| {
        (
            t["dev_id"].clone(),
            t["target"].clone(),
            t["size"].clone(),
            t["md5"].clone(),
        )
    };
    let mine: Vec<_> = tasks.iter().map(shape).collect();
    let theirs: Vec<_> = twin_tasks.as_array().unwrap().iter().map(shape).collect();
    assert_eq!(mine, theirs);
    assert_ne!(tasks[0]["token"], twin_tasks[0]["token"]);

    // The whole update, with no set-up: check, token check, download, report 101 and 201.
    let index = onenet
        .iter()
        .position(|x| x["firmware"] != x["newest_firmware"])
        .unwrap();
    let d = Onenet::nth(&sim, index).await;
    let check = d.check(&d.token()).await;
    assert_eq!(check["errno"], 0, "{check}");
    assert_eq!(check["data"]["target"], d.newest);
    let token = check["data"]["token"].as_str().unwrap().to_string();
    assert_eq!(d.token_check(&token).await["errno"], 0);
    let file = d.download(&token, None).send().await.unwrap();
    assert_eq!(file.status(), 200);
    let file = file.bytes().await.unwrap();
    assert_eq!(file.len() as u64, check["data"]["size"].as_u64().unwrap());
    assert_eq!(md5_hex(&file), check["data"]["md5"].as_str().unwrap());
    assert_eq!(d.report(&token, r#"{"result":101}"#).await["errno"], 0);
    assert_eq!(d.report(&token, r#"{"result":201}"#).await["errno"], 0);
    let device = get_json(d.url(&format!("/_sim/devices/{}", d.dev_id))).await;
    assert_eq!(device["firmware"], d.newest);
    let task = get_json(d.url(&format!("/_sim/onenet/tasks?dev_id={}", d.dev_id))).await;
    assert_eq!(task[0]["state"], "succeeded");
    assert_eq!(task[0]["bytes_served"], task[0]["size"]);
    let after = d
        .get(
            &format!(
                "/ota/south/check?dev_id={}&type=2&version={}",
                d.dev_id, d.newest
            ),
            &d.token(),
        )
        .await;
    assert_eq!(after["errno"], 11);
}

#[tokio::test]
async fn faults_reach_device_side_calls_and_every_call_is_logged() {
    let (sim, d) = Onenet::first_of_a_fresh_sim().await;
    let (_, token) = d.downloading("V9", 64).await;
    client()
        .delete(format!("{}/_sim/log", sim.url()))
        .send()
        .await
        .unwrap();
    let check = format!(
        "/ota/south/check?dev_id={}&type=2&version={}",
        d.dev_id, d.version
    );
    let raw = |path: String| {
        let request = client()
            .get(d.url(&path))
            .header("Authorization", d.token());
        async move { request.send().await.unwrap() }
    };

    fault_once(&sim, "http_429", &d.dev_id).await;
    let limited = raw(check.clone()).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "1");
    fault_once(&sim, "http_5xx", &d.dev_id).await;
    assert_eq!(raw(check.clone()).await.status(), 503);
    fault_once(&sim, "malformed_body", &d.dev_id).await;
    let malformed = raw(check.clone()).await.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&malformed).is_err());
    fault_once(&sim, "truncated_body", &d.dev_id).await;
    let truncated = raw(check.clone()).await.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&truncated).is_err());
    // Another device's faults do not reach this one.
    fault_once(&sim, "http_5xx", "123").await;
    assert_eq!(raw(check.clone()).await.status(), 200);
    clear_faults(&sim).await;

    // The download gets 429/503 too, targeted by the token's device even without dev_id.
    fault_once(&sim, "http_5xx", &d.dev_id).await;
    let bare = format!("/ota/south/download/{token}");
    assert_eq!(raw(bare.clone()).await.status(), 503);
    assert_eq!(raw(bare.clone()).await.status(), 200);

    // offline: the token check and progress answer 17, the download `3`; the check still answers.
    add_fault(&sim, json!({"kind": "offline", "target": d.dev_id})).await;
    assert_eq!(d.token_check(&token).await["errno"], 17);
    assert_eq!(d.progress(&token, r#"{"step":5}"#).await["errno"], 17);
    assert_eq!(&raw(bare.clone()).await.bytes().await.unwrap()[..], b"3");
    assert_eq!(d.check(&d.token()).await["errno"], 0);
    clear_faults(&sim).await;
    assert_eq!(d.token_check(&token).await["errno"], 0);

    let entries = log(&sim).await;
    let line = |e: &Value| {
        (
            e["endpoint"].as_str().unwrap().to_string(),
            e["outcome"].as_str().unwrap().to_string(),
        )
    };
    assert!(entries
        .iter()
        .all(|e| e["cloud"] == "onenet" && e["target"] == d.dev_id.as_str()));
    let lines: Vec<(String, String)> = entries.iter().map(line).collect();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        lines,
        [
            s("/ota/south/check", "http_429"),
            s("/ota/south/check", "http_503"),
            s("/ota/south/check", "malformed_body"),
            s("/ota/south/check", "truncated_body"),
            s("/ota/south/check", "ok"),
            s("/ota/south/download/{token}", "http_503"),
            s("/ota/south/download/{token}", "ok"),
            s("/ota/south/download/{token}/check", "error:17"),
            s("/ota/south/device/download/{token}/progress", "error:17"),
            s("/ota/south/download/{token}", "error:3"),
            s("/ota/south/check", "ok"),
            s("/ota/south/download/{token}/check", "ok"),
        ]
    );
}
