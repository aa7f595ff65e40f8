//! End-to-end tests of the real window: WebdriverIO in `tests/e2e` talks to `tauri-driver`,
//! which starts the app and drives its webview through the platform's WebDriver.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Result};

use crate::util::{self, repo_root};
use crate::{keychain, postgres, ui};

pub fn e2e_dir() -> PathBuf {
    repo_root().join("tests").join("e2e")
}

/// Makes sure `tauri-driver` and the native WebDriver it forwards to are installed.
pub fn ensure_drivers() -> Result<()> {
    if cfg!(target_os = "macos") {
        bail!("tauri-driver does not support macOS: run the end-to-end tests on Linux or Windows (or pass --skip-e2e)");
    }
    match util::find_on_path("tauri-driver") {
        Some(path) => println!("tauri-driver: {}", path.display()),
        None => util::run(util::cargo().args(["install", "tauri-driver", "--locked"]))?,
    }
    if cfg!(target_os = "linux") {
        match util::find_on_path("WebKitWebDriver") {
            Some(path) => println!("WebKitWebDriver: {}", path.display()),
            None => {
                bail!("`WebKitWebDriver` is missing: install the Debian package webkit2gtk-driver")
            }
        }
    } else if cfg!(windows) && !util::on_path("msedgedriver") {
        bail!(
            "`msedgedriver` is missing: download the Microsoft Edge WebDriver matching your Edge version from \
             https://developer.microsoft.com/microsoft-edge/tools/webdriver/ and put it on PATH"
        );
    }
    Ok(())
}

/// The binaries the tests start (the app is started by tauri-driver).
pub fn build_binaries() -> Result<()> {
    util::run(
        util::cargo()
            .args([
                "build",
                "-p",
                "ota-console",
                "-p",
                "ota-sim",
                "-p",
                "otactl",
            ])
            .current_dir(repo_root()),
    )
}

/// The window figures of `cargo xtask bench` into `out` (JSON): tests/e2e/bench/window.mjs on the release
/// binaries in `release` (the app `tauri build` made, the simulator, `ota-bench` to fill a cache), with the
/// size of `deb`.
pub fn run_window_bench(
    out: &std::path::Path,
    quick: bool,
    release: &std::path::Path,
    deb: &std::path::Path,
) -> Result<()> {
    let dir = e2e_dir();
    ui::install_if_stale(&dir)?;
    let exe = std::env::consts::EXE_SUFFIX;
    let mut bench = Command::new("node");
    bench
        .arg("bench/window.mjs")
        .arg(out)
        .env("OTA_E2E_APP", release.join(format!("ota-console{exe}")))
        .env("OTA_E2E_SIM", release.join(format!("ota-sim{exe}")))
        .env("OTA_BENCH_BIN", release.join(format!("ota-bench{exe}")))
        .env("OTA_BENCH_DEB", deb)
        .current_dir(&dir);
    if quick {
        bench
            .env("OTA_BENCH_WINDOW_DEVICES", "5000")
            .env("OTA_BENCH_WINDOW_MILLION", "20000");
    }
    run_with_window(&mut bench)
}

/// `npm ci` then `npm test` in tests/e2e; on Linux under a virtual display and inside a private keychain.
/// The app finds PostgreSQL at `database_url`.
pub fn run_tests(database_url: Option<&str>) -> Result<()> {
    let dir = e2e_dir();
    ui::clean_install(&dir)?;
    let mut tests = util::npm();
    tests
        .arg("test")
        .envs(postgres::database_env(database_url))
        .current_dir(&dir);
    run_with_window(&mut tests)
}

/// Runs `tests` where the app can open its window: on Linux under a virtual display and inside a private keychain.
pub fn run_with_window(tests: &mut Command) -> Result<()> {
    if !cfg!(target_os = "linux") {
        return util::run(tests);
    }
    if !util::on_path("xvfb-run") {
        bail!("`xvfb-run` is missing: install the Debian packages xvfb and xauth");
    }
    keychain::run_in_session_under(
        &["xvfb-run", "-a", "--server-args=-screen 0 1440x900x24"],
        tests,
    )
}
