//! The web UI under `ui/`: dependencies, checks and the production build the app embeds.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::util::{self, repo_root};

pub fn ui_dir() -> PathBuf {
    repo_root().join("ui")
}

/// `npm ci` in `dir`, always (a clean install exactly as locked).
pub fn clean_install(dir: &Path) -> Result<()> {
    util::run(util::npm().arg("ci").current_dir(dir))
}

/// `npm ci` in `dir` only when node_modules is missing or older than package-lock.json.
pub fn install_if_stale(dir: &Path) -> Result<()> {
    if dependencies_are_current(dir) {
        println!("{}: node_modules is up to date", dir.display());
        Ok(())
    } else {
        clean_install(dir)
    }
}

fn dependencies_are_current(dir: &Path) -> bool {
    let modified = |path: PathBuf| fs::metadata(path).and_then(|meta| meta.modified()).ok();
    // npm writes node_modules/.package-lock.json on every install, so its age is the install's age.
    match (
        modified(dir.join("package-lock.json")),
        modified(dir.join("node_modules").join(".package-lock.json")),
    ) {
        (Some(lock), Some(installed)) => installed >= lock,
        _ => false,
    }
}

/// `npm run <script>` in `ui/`.
pub fn npm_run(script: &str) -> Result<()> {
    util::run(util::npm().args(["run", script]).current_dir(ui_dir()))
}

/// `npm test` in `ui/` (vitest run; CI=true keeps vitest out of watch mode even in a terminal).
pub fn unit_tests() -> Result<()> {
    util::run(
        util::npm()
            .arg("test")
            .env("CI", "true")
            .current_dir(ui_dir()),
    )
}
