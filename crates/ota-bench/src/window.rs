//! Rows for the window figures `cargo xtask bench` measured in the real window over WebDriver just before
//! (`tests/e2e/bench/window.mjs`): each large-fleet figure beside the same figure with 100 devices.

use std::path::Path;

use serde_json::Value;

use crate::report::{Report, Row};

fn ms(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

pub fn add(report: &mut Report, json: Option<&Path>) {
    let Some(path) = json else {
        report.not_measured(
            "Window: first paint / search",
            "run through `cargo xtask bench` on Linux (it drives the real window over WebDriver)",
        );
        return;
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        report.not_measured(
            "Window: first paint / search",
            "the window run wrote no figures",
        );
        return;
    };
    let Ok(figures) = serde_json::from_str::<Value>(&text) else {
        report.not_measured(
            "Window: first paint / search",
            "the window figures are unreadable",
        );
        return;
    };
    let (small, large) = (&figures["baseline"], &figures["large"]);
    let n = large["devices"].as_u64().unwrap_or(0);
    let base_n = small["devices"].as_u64().unwrap_or(0);
    let row = |what: String, key: &str, target: &str, limit: Option<f64>| {
        let (m, b) = (ms(&large[key]), ms(&small[key]));
        let ratio = m / b;
        Row {
            what,
            measured: format!("{m:.0} ms"),
            baseline: format!("{b:.0} ms ({base_n} devices)"),
            ratio: Some(ratio),
            target: target.to_string(),
            met: limit.map(|l| ratio <= l),
        }
    };
    report.add(row(
        format!("Window: cold start → first row, {n} devices (empty cache, includes the import)"),
        "coldMs",
        "measured (no target)",
        None,
    ));
    report.add(row(
        format!("Window: warm start → first row from the cache, {n} devices"),
        "warmMs",
        "≤ 1.5 × with 100 devices (pages, never loads all)",
        Some(1.5),
    ));
    report.add(row(
        format!("Window: typing a search → matching rows shown, {n} devices"),
        "searchMs",
        "≤ 2 × with 100 devices (includes the 150 ms debounce)",
        Some(2.0),
    ));
    let (rss, base_rss) = (ms(&large["idleRssMib"]), ms(&small["idleRssMib"]));
    report.add(Row {
        what: format!("App core process idle RSS, {n} devices (debug build)"),
        measured: format!("{rss:.0} MiB"),
        baseline: format!("{base_rss:.0} MiB ({base_n} devices)"),
        ratio: Some(rss / base_rss),
        target: "< 100 MB more than with 100 devices".into(),
        met: Some(rss - base_rss < 95.0),
    });
}
