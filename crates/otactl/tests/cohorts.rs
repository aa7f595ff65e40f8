//! Tags, cohorts and continuous campaigns through the real `otactl` on the simulator: cameras are tagged
//! (a bad tag is a validation error, in the --json error format), a dynamic cohort is made of the tag, a
//! continuous campaign over it updates the tagged camera, waits for new devices instead of completing,
//! takes a camera tagged later (by another `otactl`, while `campaign start` runs), and completes once
//! `otactl campaign close` closed it. The cohort cannot be deleted while the campaign runs.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// Two online, charged cameras that are offered an update.
async fn two_cameras(sim_url: &str) -> (String, String) {
    let cameras: Vec<String> = fleet_of(sim_url, "vicohome")
        .await
        .into_iter()
        .filter(|d| d["firmware"] != d["newest_firmware"])
        .filter_map(|d| d["id"].as_str().map(str::to_string))
        .take(2)
        .collect();
    assert_eq!(cameras.len(), 2, "two cameras with an update");
    for camera in &cameras {
        post_json(
            &format!("{sim_url}/_sim/devices/{camera}"),
            serde_json::json!({"online": true, "battery": 90}),
        )
        .await;
    }
    (cameras[0].clone(), cameras[1].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_continuous_campaign_on_a_tag_cohort_takes_cameras_tagged_later_until_closed() {
    let desk = SimDesk::new(60, 31).await;
    let (url, data, env) = (desk.url.clone(), &desk.data, desk.env);
    let run = |args: &[&str]| desk.run(args);
    let (first, later) = two_cameras(&url).await;
    succeeded(&run(&["devices", "list", "--json"]));

    // Tags: checked, kept, listed and filtered on.
    let bad = run(&["devices", "tag", "--add", "two words", &first, "--json"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert_eq!(json_of(&bad)["error"]["code"], "validation");
    let tagged = json_of(&run(&[
        "devices",
        "tag",
        "--add",
        "beta,pilot",
        &first,
        "--json",
    ]));
    assert_eq!(tagged["changed"], 1);
    let listed = json_of(&run(&[
        "devices", "list", "--cached", "--tag", "beta", "--json",
    ]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], first.as_str());
    assert_eq!(listed[0]["tags"], serde_json::json!(["beta", "pilot"]));
    succeeded(&run(&["devices", "tag", "--remove", "pilot", &first]));

    // A dynamic cohort of the tag.
    let cohort = json_of(&run(&[
        "cohort", "create", "Beta", "--filter", "--tag", "beta", "--json",
    ]));
    assert_eq!(cohort["kind"], "dynamic");
    assert_eq!(cohort["deviceCount"], 1);
    assert_eq!(cohort["query"]["tag"], "beta");
    let again = run(&["cohort", "create", "Beta", "--filter", "--tag", "beta"]);
    assert_eq!(again.status.code(), Some(2), "names are unique");
    let shown = json_of(&run(&["cohort", "show", "Beta", "--json"]));
    assert_eq!(shown["devices"]["rows"][0]["id"], first.as_str());
    let list = json_of(&run(&["cohort", "list", "--json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // The firmware, offered to the cameras.
    let file = data.path().join("camera-9.9.0.bin");
    std::fs::write(&file, vec![42u8; 300 * 1024]).unwrap();
    let added = json_of(&run(&[
        "firmware",
        "add",
        file.to_str().unwrap(),
        "--version",
        "9.9.0",
        "--cloud",
        "vicohome",
        "--json",
    ]));
    let firmware = added["entry"]["id"].to_string();
    succeeded(&run(&["firmware", "publish", &firmware]));
    succeeded(&run(&["devices", "list", "--json"]));

    // Continuous only over a filter or a dynamic cohort.
    let listed_only = run(&[
        "campaign",
        "create",
        "--name",
        "Not continuous",
        "--firmware",
        &firmware,
        "--devices",
        &first,
        "--continuous",
        "--json",
    ]);
    assert_eq!(
        listed_only.status.code(),
        Some(2),
        "{}",
        stdout(&listed_only)
    );
    assert_eq!(json_of(&listed_only)["error"]["code"], "validation");

    let campaign = json_of(&run(&[
        "campaign",
        "create",
        "--name",
        "Beta ring",
        "--firmware",
        &firmware,
        "--cohort",
        "Beta",
        "--continuous",
        "--waves",
        "100",
        "--rate",
        "200",
        "--json",
    ]));
    assert_eq!(campaign["rules"]["continuous"], true);
    assert_eq!(campaign["closed"], false);
    assert_eq!(campaign["counts"]["pending"], 1);
    let id = campaign["id"].to_string();
    let status = |id: &str| json_of(&run(&["campaign", "status", id, "--json"]));

    let mut runner = otactl_command(
        data.path(),
        &["--sim-url", &url, "campaign", "start", &id],
        &env,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("start otactl campaign start");
    let give_up = Instant::now() + Duration::from_secs(90);
    let wait_for = |what: &str, done: &dyn Fn(&serde_json::Value) -> bool| loop {
        let now = status(&id);
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < give_up, "never happened: {what}: {now}");
        std::thread::sleep(Duration::from_millis(100));
    };

    // The tagged camera is updated; the campaign does not complete but waits for new devices.
    let waiting = wait_for("waiting for new devices", &|s| {
        s["campaign"]["waiting"]["kind"] == "waiting_for_devices"
    });
    assert_eq!(waiting["campaign"]["state"], "running");
    assert_eq!(waiting["campaign"]["counts"]["succeeded"], 1);
    assert!(runner.try_wait().unwrap().is_none(), "it keeps running");

    // Its cohort cannot be deleted meanwhile.
    let refused = run(&["cohort", "delete", "Beta"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));

    // A camera tagged now (by another otactl) joins and is updated.
    succeeded(&run(&["devices", "tag", "--add", "beta", &later]));
    wait_for("the camera tagged later updated", &|s| {
        s["campaign"]["counts"]["succeeded"] == 2
    });

    // Closed: it completes, and `campaign start` ends.
    let closed = json_of(&run(&["campaign", "close", &id, "--json"]));
    assert_eq!(closed["closed"], true);
    let ended = loop {
        if let Some(status) = runner.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < give_up, "the campaign never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(ended.success());
    let done = status(&id);
    assert_eq!(done["campaign"]["state"], "completed", "{done}");
    assert_eq!(done["campaign"]["closed"], true);
    assert_eq!(done["campaign"]["rules"]["continuous"], true);
    let starts = vicohome_starts(&url).await;
    assert_eq!(starts.get(&first), Some(&1));
    assert_eq!(starts.get(&later), Some(&1));
    assert_eq!(starts.len(), 2, "only the cohort's cameras: {starts:?}");

    // A closed campaign cannot be closed again; a finished one's cohort can be deleted.
    let twice = run(&["campaign", "close", &id, "--json"]);
    assert_eq!(twice.status.code(), Some(1));
    assert_eq!(json_of(&twice)["error"]["code"], "conflict");
    succeeded(&run(&["cohort", "delete", "Beta"]));

    let audit = succeeded(&run(&CAMPAIGN_AUDIT_JSON));
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"campaign.close"), "{actions:?}");
    assert!(actions.contains(&"campaign.devices_added"), "{actions:?}");
}
