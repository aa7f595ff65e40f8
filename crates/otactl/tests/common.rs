//! Helpers for running the real `otactl` binary against a real simulator.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub fn otactl(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    otactl_with_env(data_dir, args, stdin, &[])
}

pub fn otactl_command(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_otactl"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "debug")
        .envs(env.iter().copied());
    command
}

pub fn otactl_with_env(
    data_dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut child = otactl_command(data_dir, args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start otactl");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    child.wait_with_output().expect("otactl output")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub async fn sim(devices: usize, seed: u64) -> ota_sim::SimHandle {
    sim_at(devices, seed, 1000.0).await
}

pub async fn sim_at(devices: usize, seed: u64, time_scale: f64) -> ota_sim::SimHandle {
    let config = ota_sim::SimConfig {
        devices,
        seed,
        time_scale,
        ..Default::default()
    };
    ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

pub async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url)
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(path.display().to_string());
                }
            }
        }
    }
    hits
}

pub async fn post_json(url: &str, body: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(
        response.status().is_success(),
        "POST {url}: {}",
        response.status()
    );
}

/// Outcomes the simulator logged for `endpoint`, in order.
pub async fn logged(sim_url: &str, endpoint: &str) -> Vec<String> {
    get_json(&format!("{sim_url}/_sim/log"))
        .await
        .as_array()
        .expect("log array")
        .iter()
        .filter(|e| e["endpoint"] == endpoint)
        .map(|e| e["outcome"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// An online, charged Vicohome camera with an update waiting (made so through the admin API).
pub async fn updatable_camera(sim_url: &str) -> String {
    let fleet = get_json(&format!("{sim_url}/_sim/devices")).await;
    let camera = fleet
        .as_array()
        .expect("fleet")
        .iter()
        .find(|d| d["cloud"] == "vicohome" && d["firmware"] != d["newest_firmware"])
        .expect("a camera with an update")["id"]
        .as_str()
        .expect("id")
        .to_string();
    post_json(
        &format!("{sim_url}/_sim/devices/{camera}"),
        serde_json::json!({"online": true, "battery": 90}),
    )
    .await;
    camera
}
