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

/// An otactl run's stdout as JSON (the panic shows both streams when it is not).
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(out), stderr(out)))
}

/// Accepted Vicohome update starts per camera, from the simulator's own record (`GET /_sim/starts`).
pub async fn vicohome_starts(sim_url: &str) -> std::collections::BTreeMap<String, u64> {
    let all = get_json(&format!("{sim_url}/_sim/starts")).await;
    all["vicohome"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().expect("a count")))
                .collect()
        })
        .unwrap_or_default()
}

/// SQLite's own check of the store in `data_dir` ("ok" when sound).
pub fn integrity(data_dir: &Path) -> String {
    let conn = rusqlite::Connection::open(ota_core::paths::database_path(data_dir))
        .expect("the database opens");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check")
}

/// The seed of a test's random kill points: `OTA_KILL_SEED` to replay a run, else the clock. Printed.
pub fn kill_seed() -> u64 {
    let seed = std::env::var("OTA_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock after 1970")
                .as_nanos() as u64
        });
    eprintln!("kill points from OTA_KILL_SEED={seed}");
    seed
}

/// A campaign created over the simulator's online Vicohome cameras.
pub struct CameraCampaign {
    pub id: String,
    /// Cameras that take the firmware (the pending devices at creation).
    pub eligible: u64,
}

/// Lists the fleet, adds a camera firmware 9.9.0 to the library, publishes it in the simulator and
/// creates a campaign of every online camera with `settings` (e.g. `--waves`, `--concurrency`, `--rate`).
pub fn camera_campaign(
    data_dir: &Path,
    sim_url: &str,
    env: &[(&str, &str)],
    name: &str,
    settings: &[&str],
) -> CameraCampaign {
    let run = |args: &[&str]| {
        let mut full = vec!["--sim-url", sim_url];
        full.extend_from_slice(args);
        let out = otactl_with_env(data_dir, &full, None, env);
        assert!(
            out.status.success(),
            "otactl {args:?}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        out
    };
    run(&["devices", "list", "--json"]);
    let file = data_dir.join("camera-9.9.0.bin");
    std::fs::write(&file, vec![42u8; 300 * 1024]).expect("write the firmware file");
    let added = run(&[
        "firmware",
        "add",
        file.to_str().expect("a UTF-8 path"),
        "--version",
        "9.9.0",
        "--cloud",
        "vicohome",
        "--json",
    ]);
    let firmware_id = json_of(&added)["entry"]["id"]
        .as_i64()
        .expect("firmware id")
        .to_string();
    let published = run(&["firmware", "publish", &firmware_id]);
    assert!(
        stdout(&published).contains("offered to"),
        "{}",
        stdout(&published)
    );
    let mut create = vec![
        "campaign",
        "create",
        "--name",
        name,
        "--firmware",
        &firmware_id,
        "--cloud",
        "vicohome",
        "--online",
        "--json",
    ];
    create.extend_from_slice(settings);
    let campaign = json_of(&run(&create));
    CameraCampaign {
        id: campaign["id"].as_i64().expect("campaign id").to_string(),
        eligible: campaign["counts"]["pending"]
            .as_u64()
            .expect("pending count"),
    }
}

/// The e-mail and password the simulator's sandbox account of `cloud` ("vicohome" or "quectel") signs in with.
pub async fn sandbox_login(sim_url: &str, cloud: &str) -> (String, String) {
    let accounts = get_json(&format!("{sim_url}/_sim/accounts")).await;
    let field = |key: &str| {
        accounts[cloud][key]
            .as_str()
            .unwrap_or_else(|| panic!("the simulator offers a {cloud} {key}"))
            .to_string()
    };
    (field("email"), field("password"))
}
