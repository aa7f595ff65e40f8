//! `otactl --sim-url URL devices list --json` returns the simulator's fleet, and the same seed gives the
//! same fleet every time.

mod common;

use std::collections::BTreeSet;

use common::*;

fn ids(devices: &serde_json::Value) -> BTreeSet<(String, String)> {
    devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["cloud"].as_str().unwrap().to_string(),
                d["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn list_against(seed: u64) -> (BTreeSet<(String, String)>, BTreeSet<(String, String)>) {
    let sim = sim(500, seed).await;
    let data = tempfile::tempdir().unwrap();
    let out = otactl(
        data.path(),
        &["--sim-url", &sim.url(), "devices", "list", "--json"],
        None,
    );
    assert!(out.status.success(), "otactl failed: {}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let truth = get_json(&format!("{}/_sim/devices", sim.url())).await;
    (ids(&listed), ids(&truth))
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_every_simulated_device_deterministically() {
    let (listed, truth) = list_against(7).await;
    assert_eq!(truth.len(), 500);
    assert_eq!(
        listed, truth,
        "otactl lists exactly the simulator's devices"
    );
    let (again, _) = list_against(7).await;
    assert_eq!(again, listed, "same seed, same fleet");
    let (other, _) = list_against(8).await;
    assert_ne!(other, listed, "another seed, another fleet");
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_listing_works_with_the_simulator_gone() {
    let data = tempfile::tempdir().unwrap();
    let url = cached_then_gone(data.path(), 50, 3).await;
    // The simulator is gone: a refresh fails with a clear warning, the cache still answers.
    let out = otactl_on_sim(data.path(), &url, &["devices", "list", "--json"]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(3),
        "partial result exit code; stderr: {err}"
    );
    assert!(
        err.contains("unreachable"),
        "clear message expected, got: {err}"
    );
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        50,
        "cached devices still listed"
    );
    let cached = otactl(
        data.path(),
        &["devices", "list", "--cached", "--json"],
        None,
    );
    assert!(cached.status.success(), "{}", stderr(&cached));
    let cached: serde_json::Value = serde_json::from_str(&stdout(&cached)).unwrap();
    assert_eq!(cached.as_array().unwrap().len(), 50);
}
