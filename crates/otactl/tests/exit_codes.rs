//! Scripts branch on otactl's exit code and, with `--json`, on the error's stable `code` — never on text.
//! One test per kind of the README's table, each against the simulator or a closed port.

mod common;

use std::process::Output;

use common::*;
use serde_json::Value;

/// The `{"error": {...}}` object a failed `--json` command prints on stdout.
fn json_error(out: &Output) -> Value {
    let text = stdout(out);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("{\"error\""))
        .unwrap_or_else(|| panic!("no JSON error on stdout: {text}\nstderr: {}", stderr(out)));
    let value: Value = serde_json::from_str(line).expect("the error is JSON");
    value["error"].clone()
}

fn assert_kind(out: &Output, exit: i32, code: &str) -> Value {
    assert_eq!(
        out.status.code(),
        Some(exit),
        "exit code for {code}; stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    let error = json_error(out);
    assert_eq!(error["code"], code, "{error}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{error}"
    );
    error
}

/// A real (non-sandbox) Vicohome account added without signing in, pointing where the test says.
fn add_unverified(data: &std::path::Path, name: &str, base_url: &str, password: &str) {
    let account = AccountToAdd::new("vicohome", name, base_url, "sandbox@vicohome.sim");
    let out = account.add(data, &["--no-verify"], password);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `vicohome status --json` through an account added unverified at `base_url`; the account is removed after.
fn status_through_unverified_account(label: &str, base_url: &str, password: &str) -> Output {
    let data = tempfile::tempdir().unwrap();
    let name = format!("{label} {}", std::process::id());
    add_unverified(data.path(), &name, base_url, password);
    let status = ["vicohome", "status", "--serial", "SN1", "--json"];
    let out = as_account(data.path(), &name, &status);
    remove_account(data.path(), &name);
    out
}

#[test]
fn validation_is_2_with_the_error_as_json() {
    let data = tempfile::tempdir().unwrap();
    let long = "x".repeat(300);
    let out = otactl(
        data.path(),
        &["devices", "list", "--cached", "--json", "--search", &long],
        None,
    );
    assert_kind(&out, 2, "validation");
}

#[test]
fn not_found_and_other_failures_are_1() {
    let data = tempfile::tempdir().unwrap();
    let out = otactl(data.path(), &["campaign", "status", "999", "--json"], None);
    assert_kind(&out, 1, "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_password_is_4() {
    let sim = sim(20, 9).await;
    let out = status_through_unverified_account("Exit auth", &sim.url(), "not-the-password");
    assert_kind(&out, 4, "auth");
}

#[test]
fn an_unreachable_cloud_is_5() {
    // A loopback port nothing listens on: connection refused, at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = status_through_unverified_account(
        "Exit offline",
        &format!("http://127.0.0.1:{port}"),
        "pw",
    );
    assert_kind(&out, 5, "offline");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_is_6() {
    let sim = sim(20, 13).await;
    let serial = updatable_camera(&sim.url()).await;
    // More 429s than the client's bounded retries.
    let url = sim.url();
    fault(
        &url,
        serde_json::json!({"kind": "http_429", "target": "*", "count": 1000}),
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let status = ["vicohome", "status", "--serial", &serial, "--json"];
    let out = otactl_on_sim(data.path(), &url, &status);
    let error = assert_kind(&out, 6, "rate_limited");
    assert!(error["retryAfterSecs"].is_number(), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_data_shown_because_a_cloud_is_unreachable_is_3() {
    let data = tempfile::tempdir().unwrap();
    let url = cached_then_gone(data.path(), 30, 3).await;
    let out = otactl_on_sim(data.path(), &url, &["devices", "list", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).expect("the cached list, as JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(30));
}
