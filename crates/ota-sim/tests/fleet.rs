//! The sandbox fleet: deterministic, sized as asked, spread over the three clouds.

mod common;

use common::*;
use serde_json::Value;

async fn devices_bytes(sim: &SimHandle) -> Vec<u8> {
    send_for_bytes(client().get(format!("{}/_sim/devices", sim.url()))).await
}

#[tokio::test]
async fn same_seed_same_fleet_other_seed_other_fleet() {
    let a = sim(120, 42, 1.0).await;
    let b = sim(120, 42, 1.0).await;
    let c = sim(120, 43, 1.0).await;
    let (fa, fb, fc) = (
        devices_bytes(&a).await,
        devices_bytes(&b).await,
        devices_bytes(&c).await,
    );
    assert_eq!(fa, fb, "same seed and size: byte-identical /_sim/devices");
    assert_ne!(fa, fc, "another seed: another fleet");
    let accounts_a = get_json(format!("{}/_sim/accounts", a.url())).await;
    let accounts_b = get_json(format!("{}/_sim/accounts", b.url())).await;
    assert_eq!(accounts_a, accounts_b);
}

#[tokio::test]
async fn five_hundred_devices_over_three_clouds() {
    let sim = sim(500, 42, 1.0).await;
    let devices = devices(&sim).await;
    assert_eq!(devices.len(), 500);
    let count = |cloud: &str| devices.iter().filter(|d| d["cloud"] == cloud).count();
    assert_eq!(count("vicohome"), 200);
    assert_eq!(count("onenet"), 150);
    assert_eq!(count("quectel"), 150);
    let ble = devices.iter().filter(|d| d["transport"] == "ble").count();
    assert_eq!(ble, 50, "a third of the Quectel devices are BLE");
    let offline = devices.iter().filter(|d| d["online"] == false).count();
    assert!((15..=70).contains(&offline), "~8 % offline, got {offline}");
    for d in &devices {
        for field in ["cloud", "id", "name", "model", "manufacturer", "firmware"] {
            assert!(
                d[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field} in {d}"
            );
        }
        assert!(d["online"].is_boolean());
        assert!(d["battery"]
            .as_u64()
            .is_some_and(|b| (5..=100).contains(&b)));
        assert!(d["signal"].is_i64());
        if d["cloud"] != "vicohome" {
            assert!(d["product_key"].is_string(), "{d}");
        }
        if d["cloud"] == "quectel" {
            assert!(d["transport"] == "mqtt" || d["transport"] == "ble");
        }
    }
}

#[tokio::test]
async fn accounts_have_the_contract_shape() {
    let sim = sim(10, 42, 1.0).await;
    let accounts = get_json(format!("{}/_sim/accounts", sim.url())).await;
    for cloud in ["vicohome", "quectel"] {
        assert!(accounts[cloud]["email"].is_string());
        assert!(accounts[cloud]["password"].is_string());
    }
    let products = accounts["onenet"]["products"].as_array().unwrap();
    assert_eq!(products.len(), 2);
    let devices = devices(&sim).await;
    for product in products {
        let id = product["product_id"].as_str().unwrap();
        assert!(id.bytes().all(|b| b.is_ascii_digit()));
        let key = product["access_key"].as_str().unwrap();
        assert_eq!(key.len(), 44, "base64 of 32 bytes");
        let _: &Value = devices
            .iter()
            .find(|d| d["cloud"] == "onenet" && d["product_key"] == id)
            .expect("each product has devices");
    }
}
