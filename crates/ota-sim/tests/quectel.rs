//! The Quectel end-user API over HTTP: sign-in, refresh, paged device list; the one documented form of
//! every endpoint; and the plans the sandbox starts with.

mod common;

use std::collections::BTreeMap;

use common::quectel::*;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const LIST: &str = "/v2/binding/enduserapi/userDeviceList";
const DETAILS: &str = "/v2/quecota/enduserapi/v2/getBatchUpgradeDetails";
const SET_AUTO: &str = "/v2/quecota/enduserapi/setAutoUpgradeSwitch";
const GET_AUTO: &str = "/v2/quecota/enduserapi/getAutoUpgradeSwitch";
const DELETE_AUTO: &str = "/v2/quecota/enduserapi/deleteDeviceUpgrade";
const FETCH: &str = "/v2/quecota/enduserapi/getFetchPlan";
const REPORT: &str = "/v2/quecota/enduserapi/reportUpgradeStatus";
const HOUR: i64 = 3_600_000;

async fn page(sim: &SimHandle, token: &str, number: u32, size: u32) -> Value {
    send_for_json(
        client()
            .get(format!(
                "{}{LIST}?pageNumber={number}&pageSize={size}",
                sim.url()
            ))
            .header("Authorization", token),
    )
    .await
}

#[tokio::test]
async fn sign_in_refresh_and_page_through_devices() {
    let sim = sim(100, 42, 1.0).await;
    let (email, _) = credentials(&sim).await;

    let form = login(&sim).await;
    assert_eq!(form["code"], 200, "{form}");
    assert!(form.get("extMsg").is_some());
    let access = token_of(&form, "accessToken");
    let refresh = token_of(&form, "refreshToken");
    let expires = form["data"]["accessToken"]["expirationTime"]
        .as_u64()
        .unwrap();
    assert!(expires > 1_600_000_000_000, "ms since the epoch");

    let wrong = login_with(&sim, &[("email", &email), ("pwd", "wrong")]).await;
    assert_eq!(wrong["code"], 401, "{wrong}");

    let quectel: Vec<Value> = fleet_of(&sim, "quectel").await;
    assert_eq!(quectel.len(), 30);
    let mut listed = Vec::new();
    for number in 1..=4 {
        let answer = page(&sim, &access, number, 8).await;
        assert_eq!(answer["code"], 200);
        assert_eq!(answer["data"]["total"], 30);
        assert_eq!(answer["data"]["pageNum"], number);
        assert_eq!(answer["data"]["pageSize"], 8);
        listed.extend(answer["data"]["list"].as_array().unwrap().clone());
    }
    assert_eq!(
        listed.len(),
        30,
        "pages are 1-based and cover everything once"
    );
    let fields = "deviceKey:id productKey:product_key deviceName:name productName:model \
        deviceType:transport firmwareVersion:firmware";
    for (entry, device) in listed.iter().zip(&quectel) {
        assert_same_fields(entry, device, fields);
        assert_eq!(
            entry["onlineStatus"],
            if device["online"] == true { 1 } else { 0 }
        );
    }
    assert!(page(&sim, &access, 5, 8).await["data"]["list"]
        .as_array()
        .unwrap()
        .is_empty());

    let refreshed = refresh_with(&sim, &[("refreshToken", &refresh)]).await;
    assert_eq!(refreshed["code"], 200, "{refreshed}");
    let new_access = refreshed["data"]["accessToken"]["token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(page(&sim, new_access, 1, 10).await["code"], 200);
    let bad_refresh = refresh_with(&sim, &[("refreshToken", "nope")]).await;
    assert_eq!(bad_refresh["code"], 401);
}

#[tokio::test]
async fn bad_and_expired_tokens() {
    let sim = sim(30, 42, 1.0).await;
    let bad = page(&sim, "nope", 1, 10).await;
    assert_eq!(bad["code"], 401);
    assert_eq!(bad["msg"], "token invalid");
    let missing = send_for_json(client().get(format!("{}{LIST}", sim.url()))).await;
    assert_eq!(missing["code"], 401);

    let access = sign_in(&sim).await;
    let access = access.as_str();
    assert_eq!(page(&sim, access, 1, 10).await["code"], 200);
    advance(&sim, 25 * 3600 * 1000).await;
    let expired = page(&sim, access, 1, 10).await;
    assert_eq!(expired["code"], 401);
    assert_eq!(expired["msg"], "token expired");
}

/// An authorized GET with this query.
async fn get_with(sim: &SimHandle, token: &str, path: &str, query: &[(&str, &str)]) -> Value {
    send_for_json(
        client()
            .get(format!("{}{path}", sim.url()))
            .query(query)
            .header("Authorization", token),
    )
    .await
}

/// An authorized POST with a form body.
async fn post_form(sim: &SimHandle, token: &str, path: &str, form: &[(&str, &str)]) -> Value {
    send_for_json(
        client()
            .post(format!("{}{path}", sim.url()))
            .header("Authorization", token)
            .form(form),
    )
    .await
}

/// Code 400 "parameter error", as the cloud answers a request in another form.
fn assert_parameter_error(answer: &Value, what: &str) {
    assert_eq!(answer["code"], 400, "{what}: {answer}");
    assert!(
        answer["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("parameter error")),
        "{what}: {answer}"
    );
}

/// (productKey, deviceKey) of the first Quectel device with this transport.
async fn device_of(sim: &SimHandle, transport: &str) -> (String, String) {
    let device = devices(sim)
        .await
        .into_iter()
        .find(|d| d["cloud"] == "quectel" && d["transport"] == transport)
        .unwrap();
    (
        device["product_key"].as_str().unwrap().to_string(),
        device["id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn sign_in_and_refresh_take_only_a_form_and_refresh_only_put() {
    let sim = sim(30, 42, 1.0).await;
    let (email, password) = credentials(&sim).await;

    // JSON where the form is the documented encoding.
    let json_login = post_json(
        format!("{}{LOGIN}", sim.url()),
        json!({"email": email, "pwd": password}),
    )
    .await;
    assert_parameter_error(&json_login, "JSON sign-in");
    let renamed = login_with(&sim, &[("email", &email), ("password", &password)]).await;
    assert_parameter_error(&renamed, "password instead of pwd");

    let refresh = token_of(&login(&sim).await, "refreshToken");

    // Refresh by POST: HTTP 405, as the service answers a method it does not route.
    let by_post = client()
        .post(format!("{}{REFRESH}", sim.url()))
        .form(&[("refreshToken", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(by_post.status(), 405);
    assert_eq!(by_post.headers()["allow"], "PUT");
    let body: Value = by_post.json().await.unwrap();
    assert_eq!(body["status"], 405);
    // Refresh by PUT with a JSON body: parameter error.
    let json_refresh = send_for_json(
        client()
            .put(format!("{}{REFRESH}", sim.url()))
            .json(&json!({ "refreshToken": refresh })),
    )
    .await;
    assert_parameter_error(&json_refresh, "JSON refresh");
    // The documented form still works: neither refusal used the token up.
    let refreshed = refresh_with(&sim, &[("refreshToken", &refresh)]).await;
    assert_eq!(refreshed["code"], 200, "{refreshed}");
}

#[tokio::test]
async fn ota_endpoints_take_only_their_documented_parameter_names_and_encoding() {
    let sim = sim(60, 42, 1.0).await;
    let token = sign_in(&sim).await;
    let (pk, dk) = device_of(&sim, "mqtt").await;
    let (ble_pk, ble_dk) = device_of(&sim, "ble").await;
    let (pk, dk, ble_pk, ble_dk) = (pk.as_str(), dk.as_str(), ble_pk.as_str(), ble_dk.as_str());

    // getDeviceUpgradePlan and getFetchPlan take pk/dk; getAutoUpgradeSwitch takes productKey/deviceKey.
    for (path, documented, other, device) in [
        (PLAN, ("pk", "dk"), ("productKey", "deviceKey"), (pk, dk)),
        (
            FETCH,
            ("pk", "dk"),
            ("productKey", "deviceKey"),
            (ble_pk, ble_dk),
        ),
        (
            GET_AUTO,
            ("productKey", "deviceKey"),
            ("pk", "dk"),
            (pk, dk),
        ),
    ] {
        // The device named with these two parameter names.
        let naming = |(product, device_key): (&'static str, &'static str)| {
            [(product, device.0), (device_key, device.1)]
        };
        let wrong = get_with(&sim, &token, path, &naming(other)).await;
        assert_parameter_error(&wrong, path);
        let right = get_with(&sim, &token, path, &naming(documented)).await;
        assert_eq!(right["code"], 200, "{path}: {right}");
    }

    // JSON bodies: a form body, or other names, are parameter errors.
    let keys = json!({"productKey": pk, "deviceKey": dk});
    for (path, form, short_names, documented) in [
        (
            SET_AUTO,
            vec![
                ("productKey", pk),
                ("deviceKey", dk),
                ("autoUpgrade", "true"),
            ],
            json!({"pk": pk, "dk": dk, "autoUpgrade": true}),
            json!({"productKey": pk, "deviceKey": dk, "autoUpgrade": false}),
        ),
        (
            DELETE_AUTO,
            vec![("productKey", pk), ("deviceKey", dk)],
            json!({"pk": pk, "dk": dk}),
            keys.clone(),
        ),
        (
            REPORT,
            vec![
                ("productKey", ble_pk),
                ("deviceKey", ble_dk),
                ("componentNo", "0"),
                ("reportStatus", "0"),
            ],
            json!({"pk": ble_pk, "dk": ble_dk, "componentNo": "0", "reportStatus": 0}),
            json!({"productKey": ble_pk, "deviceKey": ble_dk, "componentNo": "0", "reportStatus": 0}),
        ),
    ] {
        assert_parameter_error(&post_form(&sim, &token, path, &form).await, path);
        assert_parameter_error(&post_with(&sim, &token, path, short_names).await, path);
        let right = post_with(&sim, &token, path, documented).await;
        assert_eq!(right["code"], 200, "{path}: {right}");
    }
    let switch_named = post_with(
        &sim,
        &token,
        SET_AUTO,
        json!({"productKey": pk, "deviceKey": dk, "switch": true}),
    )
    .await;
    assert_parameter_error(&switch_named, "switch instead of autoUpgrade");
    let status_named = post_with(
        &sim,
        &token,
        REPORT,
        json!({"productKey": ble_pk, "deviceKey": ble_dk, "componentNo": "0", "status": 1}),
    )
    .await;
    assert_parameter_error(&status_named, "status instead of reportStatus");

    // Batches: a JSON array; a form is refused whole, an item with other names is refused alone.
    let plan = get_with(&sim, &token, PLAN, &[("pk", pk), ("dk", dk)]).await;
    let plan_id = plan["data"]["planId"].as_i64().unwrap_or(1).to_string();
    assert_parameter_error(
        &post_form(
            &sim,
            &token,
            CONFIRM,
            &[
                ("productKey", pk),
                ("deviceKey", dk),
                ("planId", &plan_id),
                ("operType", "3"),
            ],
        )
        .await,
        "form batch",
    );
    let short_item = post_with(
        &sim,
        &token,
        CONFIRM,
        json!([{"pk": pk, "dk": dk, "planId": 1, "operType": 3}]),
    )
    .await;
    assert_eq!(short_item["code"], 200, "{short_item}");
    assert_eq!(short_item["data"]["successList"], json!([]));
    let refused = &short_item["data"]["failList"][0];
    assert_eq!(refused["code"], 400, "{short_item}");
    assert!(refused["msg"].as_str().unwrap().contains("productKey"));
    assert_parameter_error(
        &post_form(
            &sim,
            &token,
            DETAILS,
            &[("productKey", pk), ("deviceKey", dk), ("planId", "1")],
        )
        .await,
        "form details",
    );
    assert_parameter_error(
        &post_with(
            &sim,
            &token,
            DETAILS,
            json!([{"pk": pk, "dk": dk, "planId": 1}]),
        )
        .await,
        "short names in details",
    );

    // Another method, or a path the service does not have.
    let post_plan = client()
        .post(format!("{}{PLAN}", sim.url()))
        .header("Authorization", &token)
        .json(&keys)
        .send()
        .await
        .unwrap();
    assert_eq!(post_plan.status(), 405);
    let slash = client()
        .get(format!("{}{PLAN}/", sim.url()))
        .query(&[("pk", pk), ("dk", dk)])
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(slash.status(), 404);
}

/// Every Quectel device's plan as getDeviceUpgradePlan answers it, by deviceKey (devices without one
/// left out), with the device's transport.
async fn plans(sim: &SimHandle, token: &str) -> BTreeMap<String, (String, Value)> {
    let mut found = BTreeMap::new();
    for device in devices(sim).await {
        if device["cloud"] != "quectel" {
            continue;
        }
        let (pk, dk) = (
            device["product_key"].as_str().unwrap(),
            device["id"].as_str().unwrap(),
        );
        let answer = get_with(sim, token, PLAN, &[("pk", pk), ("dk", dk)]).await;
        assert_eq!(answer["code"], 200, "{answer}");
        if !answer["data"].is_null() {
            let transport = device["transport"].as_str().unwrap().to_string();
            found.insert(dk.to_string(), (transport, answer["data"].clone()));
        }
    }
    found
}

#[tokio::test]
async fn the_sandbox_starts_with_plans_in_different_states_that_can_be_acted_on() {
    let sim = sim(120, 42, 1.0).await;
    let token = sign_in(&sim).await;
    let found = plans(&sim, &token).await;
    let wall = unix_ms();

    // Every product with a device behind its newest firmware has a plan.
    let fleet = devices(&sim).await;
    let products: std::collections::BTreeSet<&str> = fleet
        .iter()
        .filter(|d| d["cloud"] == "quectel" && d["firmware"] != d["newest_firmware"])
        .map(|d| d["product_key"].as_str().unwrap())
        .collect();
    let planned: std::collections::BTreeSet<&str> = found
        .values()
        .map(|(_, p)| p["productKey"].as_str().unwrap())
        .collect();
    assert_eq!(planned, products);
    assert!(found.len() >= 3, "{found:?}");

    let with = |transport: &str, status: i64| -> Vec<(&String, &Value)> {
        found
            .iter()
            .filter(|(_, (t, p))| t == transport && p["deviceStatus"] == status)
            .map(|(dk, (_, p))| (dk, p))
            .collect()
    };
    // Waiting for confirmation, its period open now and for many hours more: upgrade now, or appoint.
    let pending = with("mqtt", 0);
    assert!(pending.len() >= 2, "{found:?}");
    for (_, plan) in &pending {
        assert_eq!(plan["userConfirmStatus"], 0);
        assert!(plan["planStartTime"].as_i64().unwrap() <= wall);
        assert!(plan["planEndTime"].as_i64().unwrap() >= wall + 24 * HOUR);
    }
    // Failed, retryable.
    let failed = with("mqtt", 3);
    assert!(!failed.is_empty(), "{found:?}");
    // A Bluetooth device whose plan can be fetched.
    let ble = with("ble", 0);
    assert!(!ble.is_empty(), "{found:?}");

    let item = |dk: &str, plan: &Value, oper: i64| json!({"productKey": plan["productKey"], "deviceKey": dk, "planId": plan["planId"], "operType": oper});
    let (now_dk, now_plan) = pending[0];
    let (later_dk, later_plan) = pending[1];
    let (failed_dk, failed_plan) = failed[0];
    let mut appoint = item(later_dk, later_plan, 2);
    appoint["appointStartTime"] = json!(wall + 3 * HOUR);
    appoint["appointEndTime"] = json!(wall + 5 * HOUR);
    let acted = post_with(
        &sim,
        &token,
        CONFIRM,
        json!([
            item(now_dk, now_plan, 1),
            appoint,
            item(failed_dk, failed_plan, 5)
        ]),
    )
    .await;
    assert_eq!(acted["code"], 200, "{acted}");
    assert_eq!(acted["data"]["failList"], json!([]), "{acted}");
    assert_eq!(acted["data"]["successList"].as_array().unwrap().len(), 3);
    let after = plans(&sim, &token).await;
    assert_eq!(after[now_dk].1["deviceStatus"], 1, "upgrading");
    assert_eq!(after[later_dk].1["userConfirmStatus"], 2, "appointed");
    assert_eq!(after[failed_dk].1["deviceStatus"], 1, "retried");

    // Bluetooth: the package behind fileUrl is the one fileSign and fileSize describe.
    let (ble_dk, ble_plan) = ble[0];
    let fetched = get_with(
        &sim,
        &token,
        FETCH,
        &[
            ("pk", ble_plan["productKey"].as_str().unwrap()),
            ("dk", ble_dk),
        ],
    )
    .await;
    let data = &fetched["data"];
    assert_eq!(data["planId"], ble_plan["planId"], "{fetched}");
    let package = send_for_bytes(client().get(data["fileUrl"].as_str().unwrap())).await;
    assert_eq!(package.len() as u64, data["fileSize"].as_u64().unwrap());
    let sha: String = Sha256::digest(&package)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(data["fileSign"], sha);
}

#[tokio::test]
async fn sandbox_plans_are_the_same_for_the_same_seed() {
    let shape = |found: BTreeMap<String, (String, Value)>| -> Vec<Value> {
        found
            .into_iter()
            .map(|(dk, (_, p))| {
                json!([
                    dk,
                    p["planId"],
                    p["planName"],
                    p["versionInfo"],
                    p["deviceStatus"]
                ])
            })
            .collect()
    };
    let first = sim(90, 7, 1.0).await;
    let second = sim(90, 7, 1.0).await;
    let a = shape(plans(&first, &sign_in(&first).await).await);
    let b = shape(plans(&second, &sign_in(&second).await).await);
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert!(
        get_json(format!("{}/_sim/starts", first.url())).await["quectel"]
            .as_object()
            .unwrap()
            .is_empty(),
        "seeding starts nothing"
    );
}

/// Real time; a fresh simulator at time scale 1 has its plan clock there too.
fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
