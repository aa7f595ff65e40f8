//! `cargo xtask bundle`: the installers, made by Tauri's bundler — the `@tauri-apps/cli` package in ui/'s
//! devDependencies (a prebuilt binary from the npm registry, so nothing is compiled to get it) — and on Linux
//! a smoke test of the .deb: unpacked with `dpkg-deb -x`, started under Xvfb in sandbox mode and driven
//! through tauri-driver until the device grid shows the simulated fleet.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{self, repo_root, Steps};
use crate::{e2e, system, ui};

pub struct Options {
    /// Bundle a debug build: quick, for checking the packaging; not for shipping.
    pub debug: bool,
    /// Smoke-test the .deb (Linux only).
    pub smoke: bool,
    /// Try the AppImage after the .deb (Linux only; needs tools Tauri downloads from GitHub).
    pub appimage: bool,
}

/// The bundles `tauri build` makes on this platform (names as `--bundles` takes them).
fn platform_bundles() -> &'static [&'static str] {
    if cfg!(target_os = "linux") {
        &["deb"]
    } else if cfg!(target_os = "macos") {
        &["app", "dmg"]
    } else if cfg!(windows) {
        &["msi", "nsis"]
    } else {
        &[]
    }
}

/// The UI is built by xtask (its own timed step), so the config's `beforeBuildCommand` is switched off.
const NO_UI_BUILD: &str = r#"{"build":{"beforeBuildCommand":null}}"#;

pub fn bundle(steps: &mut Steps, options: &Options) -> Result<()> {
    let linux = cfg!(target_os = "linux");
    let bundles = platform_bundles();
    if bundles.is_empty() {
        bail!("no installer format is configured for this platform");
    }
    steps.run("system packages", || {
        let mut packages = system::APP_PACKAGES.to_vec();
        if linux && options.smoke {
            packages.extend_from_slice(system::TEST_PACKAGES);
        }
        system::ensure_prerequisites(&packages)
    })?;
    steps.run("ui: npm install (with the Tauri CLI)", || {
        system::ensure_node()?;
        ui::install_if_stale(&ui::ui_dir())
    })?;
    steps.run("ui: build", || ui::npm_run("build"))?;

    let profile = if options.debug { "debug" } else { "release" };
    steps.run(
        &format!("tauri build ({profile}): {}", bundles.join(", ")),
        || tauri_build(options.debug),
    )?;

    let mut appimage_failure = None;
    if linux && options.appimage {
        let outcome = steps.attempt("tauri bundle: appimage (optional)", || {
            appimage(options.debug)
        });
        appimage_failure = outcome.err();
    }

    let dir = bundle_dir(options.debug);
    let artifacts = artifacts_in(&dir)?;
    println!("\ninstallers in {}:", dir.display());
    for artifact in &artifacts {
        println!(
            "  {:>8.1} MB  {}",
            size_of(artifact) as f64 / 1e6,
            artifact.strip_prefix(&dir).unwrap_or(artifact).display()
        );
    }
    if let Some(error) = &appimage_failure {
        println!("  (no AppImage: {error}; the .deb is complete. See README, \"Installers\".)");
    }

    if linux && options.smoke {
        steps.run("smoke: tauri-driver + WebDriver", e2e::ensure_drivers)?;
        steps.run("smoke: unpack the .deb and start it", || {
            smoke_test(&deb_in(options.debug)?)
        })?;
    }
    Ok(())
}

/// `tauri build` of this platform's bundles, from the UI already in ui/dist.
pub fn tauri_build(debug: bool) -> Result<()> {
    let mut build = tauri_cli();
    build.args(["build", "--ci", "--bundles", &platform_bundles().join(",")]);
    build.args(["--config", NO_UI_BUILD]);
    if debug {
        build.arg("--debug");
    }
    util::run(&mut build)
}

/// Where `tauri build` puts the bundles: target/{release,debug}/bundle.
fn bundle_dir(debug: bool) -> PathBuf {
    let profile = if debug { "debug" } else { "release" };
    target_dir().join(profile).join("bundle")
}

/// The .deb `tauri build` made (the newest, should older versions lie beside it).
pub fn deb_in(debug: bool) -> Result<PathBuf> {
    let dir = bundle_dir(debug);
    artifacts_in(&dir)?
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .max_by_key(|path| fs::metadata(path).and_then(|m| m.modified()).ok())
        .with_context(|| format!("tauri build made no .deb under {}", dir.display()))
}

/// The Tauri CLI from ui/node_modules, run in src-tauri/ (where tauri.conf.json is).
fn tauri_cli() -> Command {
    let mut cli = Command::new("node");
    cli.arg(
        ui::ui_dir()
            .join("node_modules")
            .join("@tauri-apps")
            .join("cli")
            .join("tauri.js"),
    )
    .current_dir(repo_root().join("src-tauri"));
    cli
}

/// Cargo's target folder, honouring CARGO_TARGET_DIR like cargo (and the Tauri CLI) do.
pub fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// What Tauri's AppImage bundler runs (linuxdeploy and its GTK plugin, AppRun), from GitHub unless they are
/// already in its tools folder.
fn appimage_tools() -> Vec<PathBuf> {
    let cache = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(env::temp_dir);
    let tools = cache.join("tauri");
    let arch = env::consts::ARCH;
    [
        format!("linuxdeploy-{arch}.AppImage"),
        format!("AppRun-{arch}"),
        "linuxdeploy-plugin-gtk.sh".to_string(),
    ]
    .into_iter()
    .map(|name| tools.join(name))
    .collect()
}

/// `tauri bundle --bundles appimage` on the binary `tauri build` just made.
fn appimage(debug: bool) -> Result<()> {
    let missing: Vec<PathBuf> = appimage_tools()
        .into_iter()
        .filter(|tool| !tool.is_file())
        .collect();
    if !missing.is_empty() {
        println!(
            "Tauri's AppImage bundler needs linuxdeploy, its GTK plugin and AppRun, and downloads them from GitHub \
             when they are missing; missing here:\n  {}",
            missing
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    let mut bundle = tauri_cli();
    bundle.args([
        "bundle",
        "--ci",
        "--bundles",
        "appimage",
        "--config",
        NO_UI_BUILD,
    ]);
    if debug {
        bundle.arg("--debug");
    }
    util::run(&mut bundle).map_err(|error| {
        if missing.is_empty() {
            error
        } else {
            error.context("the AppImage needs linuxdeploy from GitHub, which could not be reached")
        }
    })
}

/// The installers under `bundle/`: files, and `.app` folders (macOS).
fn artifacts_in(bundle_dir: &Path) -> Result<Vec<PathBuf>> {
    const KINDS: &[&str] = &["deb", "AppImage", "rpm", "msi", "exe", "dmg", "app"];
    let mut found = Vec::new();
    let kinds = fs::read_dir(bundle_dir)
        .with_context(|| format!("no bundles in {}", bundle_dir.display()))?;
    for kind in kinds {
        let kind = kind?.path();
        if !kind.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&kind)? {
            let path = entry?.path();
            let wanted = path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| KINDS.contains(&ext));
            if wanted {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Bytes in a file, or in everything under a folder.
fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok())
                    .map(|entry| size_of(&entry.path()))
                    .sum()
            })
            .unwrap_or(0)
    } else {
        fs::symlink_metadata(path).map(|m| m.len()).unwrap_or(0)
    }
}

/// tests/e2e/smoke: unpacks `deb`, checks its metadata and files, starts it in sandbox mode through tauri-driver.
pub fn smoke_test(deb: &Path) -> Result<()> {
    let dir = e2e::e2e_dir();
    ui::install_if_stale(&dir)?;
    let mut smoke = util::npm();
    smoke
        .args(["run", "smoke"])
        .env("OTA_SMOKE_DEB", deb)
        .current_dir(&dir);
    e2e::run_with_window(&mut smoke)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::TempDir;

    #[test]
    fn installers_are_found_by_kind_and_other_files_are_not() {
        let dir = TempDir::new("xtask-bundle-test").unwrap();
        let deb = dir.path().join("deb");
        let app = dir.path().join("macos").join("OTA Console.app");
        fs::create_dir_all(deb.join("OTA Console_0.1.0_amd64")).unwrap();
        fs::create_dir_all(app.join("Contents")).unwrap();
        fs::write(deb.join("OTA Console_0.1.0_amd64.deb"), [0u8; 10]).unwrap();
        fs::write(app.join("Contents").join("Info.plist"), [0u8; 7]).unwrap();
        fs::write(dir.path().join("deb").join("notes.txt"), "x").unwrap();

        let found = artifacts_in(dir.path()).unwrap();
        assert_eq!(
            found,
            vec![deb.join("OTA Console_0.1.0_amd64.deb"), app.clone()]
        );
        assert_eq!(size_of(&app), 7);
        assert!(artifacts_in(&dir.path().join("missing")).is_err());
    }
}
