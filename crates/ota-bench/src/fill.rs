//! `ota-bench --fill-cache DIR N SIM_URL` (hidden; used by `tests/e2e/bench/window.mjs`): a data folder
//! whose device cache holds N devices, for timing the window's warm start at a fleet size the simulator
//! cannot serve (a million devices would take it gigabytes and the import minutes).
//!
//! The folder is made the way the window makes it: the store opened in DIR as `App::open` opens it
//! (`Store::open_in`, so `DIR/ota-console.sqlite3`, which is what the app uses under
//! `OTA_CONSOLE_DATA_DIR`), the simulator's sandbox accounts attached as the window attaches them, then
//! the N synthetic devices of the cache bench written to the "Sandbox Vicohome" account through the
//! store's `replace_fleet`, as a refresh would write them. An app started on DIR against the same
//! simulator finds its accounts and paints the cached fleet first, refreshing in the background.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use ota_clouds::CloudConnector;
use ota_core::{Cloud, Console, Keychain, Store};

pub async fn run(args: &[String]) -> anyhow::Result<()> {
    let usage = "usage: ota-bench --fill-cache DIR N SIM_URL";
    let [dir, n, sim_url] = args else {
        anyhow::bail!("{usage}");
    };
    let dir = PathBuf::from(dir);
    let n: usize = n
        .replace('_', "")
        .parse()
        .with_context(|| format!("N must be a number of devices ({usage})"))?;

    let started = Instant::now();
    let console = Console::new(
        Store::open_in(&dir)?,
        // The sandbox's credentials stay in memory: nothing is read from or written to the keychain.
        Arc::new(Keychain::new("ota-console-bench")),
        Arc::new(CloudConnector::default()),
    );
    let accounts = ota_clouds::sandbox::attach(&console, sim_url).await?;
    let account = accounts
        .iter()
        .find(|a| a.cloud == Cloud::Vicohome)
        .with_context(|| format!("the simulator at {sim_url} offers no Vicohome account"))?;
    let devices = crate::cache::synthetic(account.id, n);
    let written = Instant::now();
    console.store().replace_fleet(account.id, &devices)?;
    let write_ms = written.elapsed().as_secs_f64() * 1000.0;
    drop(devices);
    // Closing the store's connections checkpoints the WAL into the database file, so the folder can be
    // copied as it is.
    drop(console);
    println!(
        "{{\"devices\":{n},\"account\":{:?},\"writeMs\":{write_ms:.0},\"totalMs\":{:.0}}}",
        account.name,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
