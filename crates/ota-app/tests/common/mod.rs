//! What the use-case tests share: a simulator of the three clouds and the app opened on it.
// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::sync::Arc;

use ota_app::{App, Launcher, OpenOptions, SandboxChoice};

/// A simulator of 60 devices (fleet `seed`) at 200x, on a free port.
pub async fn simulator(seed: u64) -> ota_sim::SimHandle {
    let config = ota_sim::SimConfig {
        devices: 60,
        seed,
        time_scale: 200.0,
        ..Default::default()
    };
    ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the simulator starts")
}

/// The app on data folder `data`, its sandbox accounts on `sim`, as `launcher` opens it, scoped to
/// `account` when one is named.
pub async fn open_app(
    data: &std::path::Path,
    sim: &ota_sim::SimHandle,
    launcher: Launcher,
    account: Option<&str>,
) -> Result<Arc<App>, ota_app::ApiError> {
    let app = App::open(OpenOptions {
        data_dir: Some(data.to_path_buf()),
        launcher,
        sandbox: SandboxChoice::External { url: sim.url() },
        account: account.map(str::to_string),
        database: None,
        actor: None,
    })
    .await?;
    let notices = app.connect_sandbox().await;
    assert!(notices.is_empty(), "{notices:?}");
    Ok(app)
}
