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

/// Runs otactl on the simulator at `sim_url` and asserts it succeeded; its output.
pub fn otactl_ok(data_dir: &Path, sim_url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
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
}

/// Lists the fleet (so the cache holds it), adds a camera firmware 9.9.0 to the library and publishes it
/// in the simulator; its library id.
pub fn published_camera_firmware(data_dir: &Path, sim_url: &str, env: &[(&str, &str)]) -> String {
    let run = |args: &[&str]| otactl_ok(data_dir, sim_url, env, args);
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
    firmware_id
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
    let run = |args: &[&str]| otactl_ok(data_dir, sim_url, env, args);
    let firmware_id = published_camera_firmware(data_dir, sim_url, env);
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

/// A desk on a simulator: its fleet of `devices` (seed `seed`) at 300x, a data folder, and the env that
/// runs otactl on the simulator's clock.
pub struct SimDesk {
    pub sim: ota_sim::SimHandle,
    pub url: String,
    pub data: tempfile::TempDir,
    pub env: [(&'static str, &'static str); 1],
}

impl SimDesk {
    pub async fn new(devices: usize, seed: u64) -> Self {
        let sim = sim_at(devices, seed, 300.0).await;
        let url = sim.url();
        SimDesk {
            sim,
            url,
            data: tempfile::tempdir().expect("a data folder"),
            env: [("OTA_CONSOLE_TIME_SCALE", "300")],
        }
    }

    /// Runs `otactl --sim-url URL ARGS` on the desk's data folder with its env, to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["--sim-url", self.url.as_str()];
        full.extend_from_slice(args);
        otactl_with_env(self.data.path(), &full, None, &self.env)
    }

    /// Lists the fleet and adds and publishes a camera firmware 9.9.0 (`published_camera_firmware`).
    pub fn camera_firmware(&self) -> String {
        published_camera_firmware(self.data.path(), &self.url, &self.env)
    }
}

/// A campaign test's bench: a simulator of 1 500 devices at 300x, a data folder, the env that runs
/// otactl on the simulator's clock with a short campaign lease, and a camera campaign of at least 100
/// cameras.
pub struct CampaignBench {
    pub sim: ota_sim::SimHandle,
    pub url: String,
    pub data: tempfile::TempDir,
    pub env: [(&'static str, &'static str); 2],
    pub campaign: CameraCampaign,
}

/// The bench with a campaign named `name` run in waves of 10, 40 and 100 %, `concurrency` cameras at a
/// time, at most `rate` starts a second; a killed runner's lease lasts `lease_ms`.
pub async fn campaign_bench(
    name: &str,
    lease_ms: &'static str,
    concurrency: &str,
    rate: &str,
) -> CampaignBench {
    let sim = sim_at(1_500, 71, 300.0).await;
    let url = sim.url();
    let data = tempfile::tempdir().expect("a data folder");
    let env = [
        ("OTA_CONSOLE_TIME_SCALE", "300"),
        ("OTA_CONSOLE_CAMPAIGN_LEASE_MS", lease_ms),
    ];
    let settings = [
        "--waves",
        "10,40,100",
        "--concurrency",
        concurrency,
        "--rate",
        rate,
    ];
    let campaign = camera_campaign(data.path(), &url, &env, name, &settings);
    assert!(
        campaign.eligible >= 100,
        "enough cameras to be killed mid-way: {}",
        campaign.eligible
    );
    CampaignBench {
        sim,
        url,
        data,
        env,
        campaign,
    }
}

impl CampaignBench {
    /// Runs `otactl --sim-url URL ARGS` on the bench's data folder with its env, to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["--sim-url", self.url.as_str()];
        full.extend_from_slice(args);
        otactl_with_env(self.data.path(), &full, None, &self.env)
    }

    /// `otactl campaign start ID` for the bench's campaign, not yet started.
    pub fn runner(&self) -> Command {
        let start = [
            "--sim-url",
            &self.url,
            "campaign",
            "start",
            &self.campaign.id,
        ];
        otactl_command(self.data.path(), &start, &self.env)
    }
}

/// The cameras the simulator started more than once, with their counts.
pub fn started_twice(starts: &std::collections::BTreeMap<String, u64>) -> Vec<(&String, &u64)> {
    starts.iter().filter(|(_, &n)| n > 1).collect()
}

/// Runs `otactl --sim-url SIM_URL ARGS` on the data folder `data`, to the end.
pub fn otactl_on_sim(data: &Path, sim_url: &str, args: &[&str]) -> Output {
    let mut all = vec!["--sim-url", sim_url];
    all.extend_from_slice(args);
    otactl(data, &all, None)
}

/// Runs `otactl --sim-url SIM_URL CLOUD ARGS` (a cloud's subcommand) on `data`, to the end.
pub fn otactl_cloud(data: &Path, sim_url: &str, cloud: &str, args: &[&str]) -> Output {
    let mut all = vec![cloud];
    all.extend_from_slice(args);
    otactl_on_sim(data, sim_url, &all)
}

/// The stdout of a run that succeeded (the panic shows both streams when it did not).
pub fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// The JSON lines of a `--json --wait` run's stdout (its progress), in order.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON progress line"))
        .collect()
}

/// The arguments of `otactl --sim-url SIM_URL vicohome start --serial SERIAL --wait --json`.
pub fn start_and_follow<'a>(sim_url: &'a str, serial: &'a str) -> [&'a str; 8] {
    [
        "--sim-url",
        sim_url,
        "vicohome",
        "start",
        "--serial",
        serial,
        "--wait",
        "--json",
    ]
}

/// The env that runs otactl's clock 1000 times as fast (the simulator's pace in most tests).
pub const CLOCK_1000: [(&str, &str); 1] = [("OTA_CONSOLE_TIME_SCALE", "1000")];

/// Lists the fleet of a new simulator (`devices` devices from `seed`) into `data`, so it is cached, and
/// stops the simulator: its URL, where nothing answers any more.
pub async fn cached_then_gone(data: &Path, devices: usize, seed: u64) -> String {
    let sim = sim(devices, seed).await;
    let url = sim.url();
    let listed = otactl_on_sim(data, &url, &["devices", "list", "--json"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    sim.shutdown().await;
    url
}

/// Arms a fault on the simulator: `{"kind", "target", "count"?}`.
pub async fn fault(sim_url: &str, fault: serde_json::Value) {
    post_json(&format!("{sim_url}/_sim/faults"), fault).await;
}

/// Clears every fault armed on the simulator.
pub async fn clear_faults(sim_url: &str) {
    reqwest::Client::new()
        .delete(format!("{sim_url}/_sim/faults"))
        .send()
        .await
        .expect("DELETE the faults");
}

/// The simulated devices of `cloud` ("vicohome", "quectel", "onenet"), in fleet order.
pub async fn fleet_of(sim_url: &str, cloud: &str) -> Vec<serde_json::Value> {
    let fleet = get_json(&format!("{sim_url}/_sim/devices")).await;
    let devices = fleet.as_array().expect("the fleet");
    devices
        .iter()
        .filter(|d| d["cloud"] == cloud)
        .cloned()
        .collect()
}

/// An account as `otactl accounts add` takes it (the secret is typed on stdin).
pub struct AccountToAdd<'a> {
    pub cloud: &'a str,
    pub name: &'a str,
    pub base_url: &'a str,
    pub user: &'a str,
}

impl<'a> AccountToAdd<'a> {
    pub fn new(cloud: &'a str, name: &'a str, base_url: &'a str, user: &'a str) -> Self {
        Self {
            cloud,
            name,
            base_url,
            user,
        }
    }

    /// `otactl accounts add --cloud .. --name .. --base-url .. --user .. EXTRA` on `data`, `secret`
    /// typed on stdin.
    pub fn add(&self, data: &Path, extra: &[&str], secret: &str) -> Output {
        let mut args = vec![
            "accounts", "add", "--cloud", self.cloud, "--name", self.name,
        ];
        args.extend_from_slice(&["--base-url", self.base_url, "--user", self.user]);
        args.extend_from_slice(extra);
        otactl(data, &args, Some(&format!("{secret}\n")))
    }
}

/// A run that failed, saying `words` on stderr.
pub fn assert_refused(out: &Output, words: &str) {
    assert!(!out.status.success(), "accepted: {}", stdout(out));
    assert!(stderr(out).contains(words), "{}", stderr(out));
}

/// `otactl audit export` of the campaign actions, as JSON.
pub const CAMPAIGN_AUDIT_JSON: [&str; 6] = [
    "audit",
    "export",
    "--format",
    "json",
    "--action",
    "campaign.",
];

/// Runs `otactl --account NAME ARGS` on `data`, to the end.
pub fn as_account(data: &Path, name: &str, args: &[&str]) -> Output {
    let mut all = vec!["--account", name];
    all.extend_from_slice(args);
    otactl(data, &all, None)
}

/// Removes the account `name` from `data`, which must work.
pub fn remove_account(data: &Path, name: &str) {
    let removed = otactl(data, &["accounts", "remove", name], None);
    assert!(removed.status.success(), "{}", stderr(&removed));
}

/// What a webhook receiver got: (event header, delivery header, body, signature verified).
pub type Received =
    std::sync::Arc<std::sync::Mutex<Vec<(String, String, serde_json::Value, bool)>>>;

pub async fn receive(
    axum::extract::State((secret, received)): axum::extract::State<(String, Received)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let signed = ota_core::webhooks::verify(
        secret.as_bytes(),
        &body,
        &header(ota_core::webhooks::SIGNATURE_HEADER),
    );
    received.lock().unwrap().push((
        header(ota_core::webhooks::EVENT_HEADER),
        header(ota_core::webhooks::DELIVERY_HEADER),
        serde_json::from_slice(&body).unwrap_or_default(),
        signed,
    ));
    axum::http::StatusCode::NO_CONTENT
}

/// A receiver on 127.0.0.1 checking signatures with `secret`: its URL and what it got.
pub async fn receiver(secret: &str) -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ota-events", listener.local_addr().unwrap());
    let received = Received::default();
    let app = axum::Router::new()
        .route("/ota-events", axum::routing::post(receive))
        .with_state((secret.to_string(), received.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}
