//! The `ota-sim` binary: flags, the one stdout line, start-up faults.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_its_address_and_serves_with_startup_faults() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_ota-sim"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--devices",
                "25",
                "--seed",
                "7",
                "--time-scale",
                "50",
                "--fault",
                "offline:*",
                "--fault",
                "http_429:VCNOPE000000:2",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ota-sim runs"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert!(!url.ends_with(":0"), "the port actually bound");

    let devices: Vec<Value> = common::get_json(format!("{url}/_sim/devices"))
        .await
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(devices.len(), 25);
    let faults = common::get_json(format!("{url}/_sim/faults")).await;
    assert_eq!(faults[0]["kind"], "offline");
    assert_eq!(faults[0]["target"], "*");
    assert_eq!(faults[1]["kind"], "http_429");
    assert_eq!(faults[1]["count"], 2);
    let clock = common::get_json(format!("{url}/_sim/clock")).await;
    assert_eq!(clock["time_scale"], 50.0);

    // The same fleet as the library gives for the same seed and size.
    let sim = common::sim(25, 7, 1.0).await;
    let in_process = common::devices(&sim).await;
    assert_eq!(devices, in_process);
    sim.shutdown().await;
}

#[test]
fn refuses_an_unknown_fault() {
    let output = Command::new(env!("CARGO_BIN_EXE_ota-sim"))
        .args(["--fault", "meteor:*"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown fault kind"));
}

#[test]
fn help_names_every_fault_kind() {
    let help = Command::new(env!("CARGO_BIN_EXE_ota-sim"))
        .arg("--help")
        .output()
        .expect("ota-sim --help runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for kind in ota_sim::FaultKind::all() {
        assert!(help.contains(kind.as_str()), "--help lacks {kind}");
    }
}
