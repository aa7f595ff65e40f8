//! The Quectel end-user API over HTTP: sign-in (form or JSON), refresh, paged device list.

mod common;

use common::*;
use serde_json::{json, Value};

const LOGIN: &str = "/v2/enduser/enduserapi/emailPwdLogin";
const REFRESH: &str = "/v2/enduser/enduserapi/refreshToken";
const LIST: &str = "/v2/binding/enduserapi/userDeviceList";

async fn credentials(sim: &SimHandle) -> (String, String) {
    let accounts = get_json(format!("{}/_sim/accounts", sim.url())).await;
    (
        accounts["quectel"]["email"].as_str().unwrap().to_string(),
        accounts["quectel"]["password"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

async fn page(sim: &SimHandle, token: &str, number: u32, size: u32) -> Value {
    client()
        .get(format!(
            "{}{LIST}?pageNumber={number}&pageSize={size}",
            sim.url()
        ))
        .header("Authorization", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_refresh_and_page_through_devices() {
    let sim = sim(100, 42, 1.0).await;
    let (email, password) = credentials(&sim).await;

    let form: Value = client()
        .post(format!("{}{LOGIN}", sim.url()))
        .form(&[("email", email.as_str()), ("pwd", password.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(form["code"], 200, "{form}");
    assert!(form.get("extMsg").is_some());
    let access = form["data"]["accessToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = form["data"]["refreshToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let expires = form["data"]["accessToken"]["expirationTime"]
        .as_u64()
        .unwrap();
    assert!(expires > 1_600_000_000_000, "ms since the epoch");

    let json_login = post_json(
        format!("{}{LOGIN}", sim.url()),
        json!({"email": email, "pwd": password}),
    )
    .await;
    assert_eq!(json_login["code"], 200);
    let wrong = post_json(
        format!("{}{LOGIN}", sim.url()),
        json!({"email": email, "pwd": "wrong"}),
    )
    .await;
    assert_ne!(wrong["code"], 200);

    let quectel: Vec<Value> = devices(&sim)
        .await
        .into_iter()
        .filter(|d| d["cloud"] == "quectel")
        .collect();
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
    for (entry, device) in listed.iter().zip(&quectel) {
        assert_eq!(entry["deviceKey"], device["id"]);
        assert_eq!(entry["productKey"], device["product_key"]);
        assert_eq!(entry["deviceName"], device["name"]);
        assert_eq!(entry["productName"], device["model"]);
        assert_eq!(entry["deviceType"], device["transport"]);
        assert_eq!(entry["firmwareVersion"], device["firmware"]);
        assert_eq!(
            entry["onlineStatus"],
            if device["online"] == true { 1 } else { 0 }
        );
    }
    assert!(page(&sim, &access, 5, 8).await["data"]["list"]
        .as_array()
        .unwrap()
        .is_empty());

    let refreshed: Value = client()
        .put(format!("{}{REFRESH}", sim.url()))
        .form(&[("refreshToken", refresh.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["code"], 200, "{refreshed}");
    let new_access = refreshed["data"]["accessToken"]["token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(page(&sim, new_access, 1, 10).await["code"], 200);
    let bad_refresh: Value = client()
        .put(format!("{}{REFRESH}", sim.url()))
        .form(&[("refreshToken", "nope")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad_refresh["code"], 401);
}

#[tokio::test]
async fn bad_and_expired_tokens() {
    let sim = sim(30, 42, 1.0).await;
    let bad = page(&sim, "nope", 1, 10).await;
    assert_eq!(bad["code"], 401);
    assert_eq!(bad["msg"], "token invalid");
    let missing: Value = client()
        .get(format!("{}{LIST}", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(missing["code"], 401);

    let (email, password) = credentials(&sim).await;
    let login = post_json(
        format!("{}{LOGIN}", sim.url()),
        json!({"email": email, "pwd": password}),
    )
    .await;
    let access = login["data"]["accessToken"]["token"].as_str().unwrap();
    assert_eq!(page(&sim, access, 1, 10).await["code"], 200);
    advance(&sim, 25 * 3600 * 1000).await;
    let expired = page(&sim, access, 1, 10).await;
    assert_eq!(expired["code"], 401);
    assert_eq!(expired["msg"], "token expired");
}
