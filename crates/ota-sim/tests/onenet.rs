//! The OneNET sandbox listing over HTTP, guarded by real OneNET product tokens.

mod common;

use common::*;
use ota_sim::onenet::auth::{sign_token, SignMethod};
use serde_json::Value;

const HOUR: u64 = 3600;

fn now() -> u64 {
    ota_sim::clock::unix_secs()
}

async fn list(sim: &SimHandle, product_id: &str, token: Option<&str>) -> Value {
    let mut request = client().get(format!(
        "{}/_sim/onenet/devices?product_id={product_id}",
        sim.url()
    ));
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn token_accepted_tampered_expired() {
    let sim = sim(60, 42, 1.0).await;
    let accounts = get_json(format!("{}/_sim/accounts", sim.url())).await;
    let product = &accounts["onenet"]["products"][0];
    let product_id = product["product_id"].as_str().unwrap();
    let key = product["access_key"].as_str().unwrap();
    let res = format!("products/{product_id}");

    for method in [SignMethod::Md5, SignMethod::Sha1, SignMethod::Sha256] {
        let token = sign_token(key, &res, now() + HOUR, method).unwrap();
        let answer = list(&sim, product_id, Some(&token)).await;
        assert_eq!(answer["errno"], 0, "{method}: {answer}");
        assert_eq!(answer["error"], "succ");
        let listed = answer["data"]["devices"].as_array().unwrap();
        let expected: Vec<Value> = devices(&sim)
            .await
            .into_iter()
            .filter(|d| d["cloud"] == "onenet" && d["product_key"] == product_id)
            .collect();
        assert_eq!(listed.len(), expected.len());
        let fields =
            "dev_id:id name manuf:manufacturer model version:firmware online battery signal";
        for (entry, device) in listed.iter().zip(&expected) {
            assert_same_fields(entry, device, fields);
        }
    }

    let good = sign_token(key, &res, now() + HOUR, SignMethod::Sha256).unwrap();
    let tampered = good.replace("et=", "et=1");
    let expired = sign_token(key, &res, now() - 10, SignMethod::Sha256).unwrap();
    let other_product = accounts["onenet"]["products"][1]["product_id"]
        .as_str()
        .unwrap();
    let misdirected = sign_token(
        key,
        &format!("products/{other_product}"),
        now() + HOUR,
        SignMethod::Sha1,
    )
    .unwrap();
    for (why, token) in [
        ("tampered", Some(tampered.as_str())),
        ("expired", Some(expired.as_str())),
        ("another product's res", Some(misdirected.as_str())),
        ("missing", None),
        ("garbage", Some("hello")),
    ] {
        let answer = list(&sim, product_id, token).await;
        assert_eq!(answer["errno"], 1, "{why}: {answer}");
        assert_eq!(answer["error"], "auth failed");
    }
    let entries = log(&sim).await;
    assert!(entries.iter().all(|e| e["cloud"] == "onenet"));
    assert_eq!(
        entries.iter().filter(|e| e["outcome"] == "error:1").count(),
        5
    );
}
