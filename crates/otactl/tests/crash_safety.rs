//! The store survives being killed mid-write: `otactl` is SIGKILLed at several points of a large CSV
//! import and of fleet refreshes; every time the database opens, passes SQLite's integrity check, and
//! holds either none or all of the import (one transaction), never part of it.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const ROWS: usize = 15_000;

fn manual_count(db: &std::path::Path) -> (String, i64, i64) {
    let conn = rusqlite::Connection::open(db).expect("the database opens after a kill");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let manual: i64 = conn
        .query_row("SELECT COUNT(*) FROM manual_devices", [], |r| r.get(0))
        .unwrap();
    let devices: i64 = conn
        .query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0))
        .unwrap();
    (integrity, manual, devices)
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_otactl_during_writes_leaves_a_consistent_database() {
    let sim = sim(300, 9).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    let listed = otactl_on_sim(data.path(), &url, &["devices", "list", "--json"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let accounts = get_json(&format!("{url}/_sim/accounts")).await;
    let product = accounts["onenet"]["products"][0]["product_id"]
        .as_str()
        .unwrap()
        .to_string();
    let account = format!("Sandbox OneNET {product}");

    let csv = data.path().join("big.csv");
    let mut text = String::from("dev_id,name,manufacturer,model,firmware\n");
    for i in 0..ROWS {
        text.push_str(&format!(
            "{},Meter {i},102,10201,V1.{}\n",
            700_000_000 + i,
            i % 7
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let db = ota_core::paths::database_path(data.path());
    let csv_path = csv.to_str().unwrap();
    let import = ["--account", &account, "devices", "import", csv_path];

    // How long an undisturbed import takes, to spread the kills over it.
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = otactl_on_sim(probe_dir.path(), &url, &["devices", "list"]);
    assert!(probe.status.success());
    let started = Instant::now();
    let timed = otactl_on_sim(probe_dir.path(), &url, &import);
    assert!(timed.status.success(), "{}", stderr(&timed));
    let full = started.elapsed().max(Duration::from_millis(200));

    let mut kills = 0;
    for step in 1..=6u32 {
        // Alternate between the import and a refresh (which rewrites the cached fleet).
        let mut args = vec!["--sim-url", url.as_str()];
        if step % 2 == 0 {
            args.extend_from_slice(&["devices", "list"]);
        } else {
            args.extend_from_slice(&import);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_otactl"))
            .arg("--data-dir")
            .arg(data.path())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(f64::from(step) / 7.0));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix: no destructor, no rollback handler runs.
            kills += 1;
        }
        let _ = child.wait();
        let (integrity, manual, devices) = manual_count(&db);
        assert_eq!(integrity, "ok", "after kill {step}");
        assert!(
            manual == 0 || manual == ROWS as i64,
            "after kill {step}: {manual} of {ROWS} imported rows — a half-written import"
        );
        assert!(devices >= 0);
    }
    assert!(
        kills >= 3,
        "only {kills} of the runs were still writing when killed"
    );

    // An undisturbed run completes the work.
    let done = otactl_on_sim(data.path(), &url, &import);
    assert!(done.status.success(), "{}", stderr(&done));
    let (integrity, manual, _) = manual_count(&db);
    assert_eq!((integrity.as_str(), manual), ("ok", ROWS as i64));
    sim.shutdown().await;
}
