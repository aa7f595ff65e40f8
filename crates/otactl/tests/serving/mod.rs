//! `otactl serve` as a real process, and what the serve tests read back: the campaign's status, its
//! audit entries, its lease, and `/metrics` parsed strictly as Prometheus text.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

/// A running `otactl serve`, its stderr lines collected as they come.
pub struct Serve {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    /// `otactl --sim-url URL serve --name NAME [--metrics 127.0.0.1:0]` on `data` with `env`.
    pub fn start(data: &Path, url: &str, env: &[(&str, &str)], name: &str, metrics: bool) -> Self {
        let mut args = vec!["--sim-url", url, "serve", "--name", name];
        if metrics {
            args.extend_from_slice(&["--metrics", "127.0.0.1:0"]);
        }
        let mut child = otactl_command(data, &args, env)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start otactl serve");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (pipe, sink) = (child.stderr.take().expect("stderr"), lines.clone());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Serve { child, lines }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn said(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The first line `matches` accepts, waited for up to `limit`.
    pub async fn line(&self, limit: Duration, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(line) = self.lines.lock().unwrap().iter().find(|l| matches(l)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "serve {} did not say it in {limit:?}:\n{}",
                self.pid(),
                self.said()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Where it serves its metrics (it says so on stderr).
    pub async fn metrics_url(&self) -> String {
        let line = self
            .line(Duration::from_secs(20), |l| l.starts_with("metrics at "))
            .await;
        line["metrics at ".len()..].to_string()
    }

    pub fn signal(&self, signal: &str) {
        let sent = std::process::Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -s {signal} {}", self.pid());
    }

    /// Its exit status, waited for up to `limit`.
    pub async fn exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve {} did not exit in {limit:?}:\n{}",
                self.pid(),
                self.said()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The campaign's lease row as any process reads it, expired or not: (pid, program, expires_at).
pub fn lease_row(data: &Path, id: &str) -> Option<(u32, String, i64)> {
    let conn = rusqlite::Connection::open(ota_core::paths::database_path(data)).ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    conn.query_row(
        "SELECT pid, program, expires_at FROM campaign_leases WHERE campaign_id = ?1",
        [id.parse::<i64>().ok()?],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .ok()
}

/// The pid holding the campaign's live lease.
pub fn holder_pid(data: &Path, id: &str) -> Option<u32> {
    lease_row(data, id)
        .filter(|(_, _, expires_at)| *expires_at > ota_core::now_ms())
        .map(|(pid, _, _)| pid)
}

/// Waits up to `limit` for `ready`, polling; how long it took.
pub async fn until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) -> Duration {
    let began = Instant::now();
    while !ready() {
        assert!(began.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    began.elapsed()
}

/// `campaign status ID --json` on the simulator.
pub fn status(data: &Path, url: &str, env: &[(&str, &str)], id: &str) -> serde_json::Value {
    json_of(&otactl_ok(
        data,
        url,
        env,
        &["campaign", "status", id, "--json"],
    ))
}

pub async fn until_completed(data: &Path, url: &str, env: &[(&str, &str)], id: &str) {
    until_completed_within(Duration::from_secs(90), data, url, env, id).await;
}

/// Waits for the campaign to complete (any other end fails), reading its status as a desk does.
pub async fn until_completed_within(
    limit: Duration,
    data: &Path,
    url: &str,
    env: &[(&str, &str)],
    id: &str,
) {
    let began = Instant::now();
    loop {
        let dashboard = status(data, url, env, id);
        match dashboard["campaign"]["state"].as_str() {
            Some("completed") => return,
            Some("running") => {}
            other => panic!("the campaign ended {other:?}: {dashboard}"),
        }
        assert!(began.elapsed() < limit, "not completed: {dashboard}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every one of the campaign's `eligible` cameras was started exactly once (the simulator's record), and
/// the audit log has one start for each.
pub async fn assert_each_started_and_audited_once(
    data: &Path,
    url: &str,
    env: &[(&str, &str)],
    eligible: u64,
) {
    let starts = vicohome_starts(url).await;
    assert_eq!(
        starts.len() as u64,
        eligible,
        "every eligible camera started"
    );
    assert!(
        starts.values().all(|&n| n == 1),
        "started twice: {:?}",
        started_twice(&starts)
    );
    let audit_starts = audited(data, url, env, "campaign.device.start");
    let targets: std::collections::BTreeSet<&str> = audit_starts
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    assert_eq!(
        audit_starts.len() as u64,
        eligible,
        "one audited start per camera"
    );
    assert_eq!(targets.len() as u64, eligible, "no camera audited twice");
}

/// Sets the campaign running without running it here.
pub fn start_detached(data: &Path, url: &str, env: &[(&str, &str)], id: &str) {
    let started = json_of(&otactl_ok(
        data,
        url,
        env,
        &["campaign", "start", id, "--detach", "--json"],
    ));
    assert_eq!(started["state"], "running", "{started}");
}

/// A strict reader of the Prometheus / OpenMetrics text format. Every line must be `# HELP name text`,
/// `# TYPE name type` (once per family, before its samples), `# UNIT name unit`, or a sample
/// `name{label="value",…} value` of a declared family (a counter's samples are `name_total` or
/// `name_created`), and the text must end with `# EOF`. Label values are quoted with `\\`, `\"`, `\n`
/// escapes; values are floats. Answers every sample by `name{labels}` (labels sorted; `name` alone when it
/// has none); a series given twice is refused. The error names the first line that breaks a rule.
pub fn parse_metrics(text: &str) -> Result<BTreeMap<String, f64>, String> {
    macro_rules! ensure {
        ($cond:expr, $($why:tt)+) => {
            if !$cond {
                return Err(format!($($why)+));
            }
        };
    }
    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    fn value(s: &str) -> Result<f64, String> {
        match s {
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            "NaN" => Ok(f64::NAN),
            _ => s.parse().map_err(|_| format!("not a value: {s:?}")),
        }
    }
    const TYPES: [&str; 8] = [
        "counter",
        "gauge",
        "histogram",
        "summary",
        "unknown",
        "info",
        "stateset",
        "gaugehistogram",
    ];
    let lines: Vec<&str> = text.lines().collect();
    ensure!(
        lines.last() == Some(&"# EOF"),
        "the text does not end with # EOF"
    );
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = BTreeMap::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(meta) = line.strip_prefix("# ") {
            let mut parts = meta.splitn(3, ' ');
            let (keyword, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            ensure!(is_name(name), "no metric name in {line:?}");
            match keyword {
                "HELP" | "UNIT" => {}
                "TYPE" => {
                    let kind = parts.next().unwrap_or("");
                    ensure!(TYPES.contains(&kind), "no metric type in {line:?}");
                    ensure!(
                        types.insert(name.to_string(), kind.to_string()).is_none(),
                        "typed twice: {line:?}"
                    );
                }
                _ => return Err(format!("not a metadata line: {line:?}")),
            }
            continue;
        }
        // name{labels} value [timestamp]
        let name_end = line
            .find(['{', ' '])
            .ok_or_else(|| format!("not a sample: {line:?}"))?;
        let name = &line[..name_end];
        ensure!(is_name(name), "no sample name in {line:?}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            let at = |pos: usize| {
                after[pos..]
                    .chars()
                    .next()
                    .ok_or_else(|| format!("unclosed labels: {line:?}"))
            };
            let mut pos = 0;
            if at(0)? != '}' {
                loop {
                    let eq = after[pos..]
                        .find('=')
                        .ok_or_else(|| format!("a label without a value: {line:?}"))?;
                    let label = &after[pos..pos + eq];
                    ensure!(is_name(label), "a bad label name in {line:?}");
                    pos += eq + 1;
                    ensure!(at(pos)? == '"', "an unquoted label value in {line:?}");
                    pos += 1;
                    let mut value = String::new();
                    loop {
                        let c = at(pos)?;
                        pos += c.len_utf8();
                        match c {
                            '"' => break,
                            '\\' => {
                                let escaped = at(pos)?;
                                pos += escaped.len_utf8();
                                value.push(match escaped {
                                    '\\' => '\\',
                                    '"' => '"',
                                    'n' => '\n',
                                    other => {
                                        return Err(format!("a bad escape \\{other} in {line:?}"))
                                    }
                                });
                            }
                            c => value.push(c),
                        }
                    }
                    labels.push(format!("{label}={value:?}"));
                    match at(pos)? {
                        '}' => break,
                        ',' => {
                            pos += 1;
                            ensure!(at(pos)? != '}', "a trailing comma in {line:?}");
                        }
                        _ => return Err(format!("labels not separated by commas: {line:?}")),
                    }
                }
            }
            rest = &after[pos + 1..];
        }
        let mut fields = rest
            .strip_prefix(' ')
            .ok_or_else(|| format!("no value in {line:?}"))?
            .split(' ');
        let v = value(fields.next().unwrap_or(""))?;
        if let Some(timestamp) = fields.next() {
            value(timestamp)?;
        }
        ensure!(fields.next().is_none(), "too many fields: {line:?}");
        let declared = types.iter().any(|(family, kind)| match kind.as_str() {
            "counter" => name
                .strip_prefix(family.as_str())
                .is_some_and(|s| s == "_total" || s == "_created"),
            _ => name == family.as_str(),
        });
        ensure!(declared, "a sample of no declared family: {line:?}");
        labels.sort();
        let key = if labels.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", labels.join(","))
        };
        ensure!(
            samples.insert(key, v).is_none(),
            "a series given twice: {line:?}"
        );
    }
    Ok(samples)
}

/// `GET /metrics`: answered as OpenMetrics text, and parsed.
pub async fn scrape(url: &str) -> BTreeMap<String, f64> {
    let response = reqwest::get(url).await.expect("GET /metrics");
    assert!(response.status().is_success(), "{}", response.status());
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    parse_metrics(&text).unwrap_or_else(|why| panic!("{why}:\n{text}"))
}

pub fn metric(samples: &BTreeMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {samples:#?}"))
}

/// The campaign's audit entries of `action`.
pub fn audited(
    data: &Path,
    url: &str,
    env: &[(&str, &str)],
    action: &str,
) -> Vec<serde_json::Value> {
    let audit = json_of(&otactl_ok(data, url, env, &CAMPAIGN_AUDIT_JSON));
    audit
        .as_array()
        .expect("audit entries")
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

/// Runs a future to its end inside a synchronous check (the simulator's record is one quick GET).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}
