//! `ota-bench`: the numbers `cargo xtask bench` prints and writes to `bench/RESULTS.md`. Every figure
//! comes with a baseline measured in the same run on the same machine (raw SQLite on the same file,
//! `curl` on the same URL), because absolute times on a shared 2-core machine mean little.

mod cache;
mod campaign;
mod download;
mod fill;
mod probe;
mod report;
mod sys;
mod team;
mod window;

use std::path::PathBuf;

use report::Report;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("--serve-sim") {
        let devices = std::env::args()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(25_000);
        let slow_delay = std::env::args()
            .nth(3)
            .and_then(|ms| ms.parse().ok())
            .map(std::time::Duration::from_millis);
        return campaign::serve_sim(devices, slow_delay).await;
    }
    // Hidden: a data folder whose cache holds N devices, for the window bench (tests/e2e/bench/window.mjs).
    if std::env::args().nth(1).as_deref() == Some("--fill-cache") {
        let rest: Vec<String> = std::env::args().skip(2).collect();
        return fill::run(&rest).await;
    }
    if std::env::args().nth(1).as_deref() == Some("--run-campaign") {
        let rest: Vec<String> = std::env::args().skip(2).collect();
        return campaign::run_campaign_process(&rest).await;
    }
    let mut out = PathBuf::from("bench/RESULTS.md");
    let mut quick = false;
    let mut only: Option<String> = None;
    let mut window: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = PathBuf::from(args.next().unwrap_or_default()),
            "--quick" => quick = true,
            // For profiling one part: `--only campaign`, `team`, `cache`, `download` or `window`.
            "--only" => only = args.next(),
            // The window figures `cargo xtask bench` measured over WebDriver just before (JSON).
            "--window" => window = args.next().map(PathBuf::from),
            other => {
                anyhow::bail!("unknown argument {other} (use --out FILE, --quick, --only PART)")
            }
        }
    }
    let mut report = Report::new();
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part);
    // The campaign first: its memory figure is the process's peak, which the 1M-device cache bench
    // would otherwise set.
    if wants("campaign") {
        campaign::run(&mut report, quick).await?;
    }
    if wants("team") {
        team::run(&mut report, quick).await?;
    }
    if wants("cache") {
        cache::run(&mut report, quick).await?;
    }
    if wants("download") {
        download::run(&mut report, quick).await?;
    }
    if wants("window") {
        window::add(&mut report, window.as_deref());
    }
    report.print();
    report.write(&out)?;
    println!("\nwritten to {}", out.display());
    // Only a full run speaks for the README: a partial or quick one would drop or shrink rows.
    if only.is_none() && !quick {
        let readme = std::path::Path::new("README.md");
        report.write_readme_table(readme)?;
        println!("and the table in {}", readme.display());
    }
    Ok(())
}
