//! System prerequisites: Debian packages on Linux, Xcode tools on macOS, WebView2 on Windows, Node.js everywhere.

use std::collections::HashSet;
use std::process::Command;

use anyhow::{bail, Result};

use crate::util::{self, output_of};

/// What Tauri 2 needs to build and run on Debian/Ubuntu.
pub const APP_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libsoup-3.0-dev",
    "libssl-dev",
    "pkg-config",
    "build-essential",
];

/// What the headless tests need: a virtual display, the WebKit WebDriver, a session bus, a keyring and
/// PostgreSQL's server programs (for the throwaway cluster of the team-mode store tests).
pub const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus-x11",
    "gnome-keyring",
    POSTGRES_PACKAGE,
];

pub const POSTGRES_PACKAGE: &str = "postgresql";

/// Makes sure the platform prerequisites are there; on Debian as root it installs the missing packages.
pub fn ensure_prerequisites(debian_packages: &[&str]) -> Result<()> {
    if cfg!(target_os = "linux") {
        ensure_debian_packages(debian_packages)
    } else if cfg!(target_os = "macos") {
        ensure_xcode_tools()
    } else if cfg!(windows) {
        ensure_webview2()
    } else {
        println!("unknown platform: not checking system prerequisites");
        Ok(())
    }
}

fn ensure_debian_packages(packages: &[&str]) -> Result<()> {
    if !util::on_path("dpkg-query") {
        println!(
            "not a Debian-based system: make sure the equivalents of these packages are installed:\n  {}",
            packages.join(" ")
        );
        return Ok(());
    }
    let missing = missing_debian_packages(packages);
    if missing.is_empty() {
        println!("all {} system packages are installed", packages.len());
        return Ok(());
    }
    let install_args = ["install", "-y", "--no-install-recommends"];
    if !(util::is_root() && util::on_path("apt-get")) {
        bail!(
            "missing system packages: {}\ninstall them with:\n  sudo apt-get update && sudo apt-get {} {}",
            missing.join(" "),
            install_args.join(" "),
            missing.join(" ")
        );
    }
    println!("installing missing system packages: {}", missing.join(" "));
    util::run(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    util::run(
        Command::new("apt-get")
            .args(install_args)
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    let still_missing = missing_debian_packages(packages);
    if !still_missing.is_empty() {
        bail!(
            "apt-get finished but these packages are still missing: {}",
            still_missing.join(" ")
        );
    }
    Ok(())
}

/// The packages dpkg does not report as installed (unknown names and removed packages included).
fn missing_debian_packages(packages: &[&str]) -> Vec<String> {
    // dpkg-query exits 1 when some name is unknown but still lists the known ones, so read stdout whatever the status.
    let listing = Command::new("dpkg-query")
        .arg("-W")
        .arg("-f=${Package} ${Status}\n")
        .args(packages)
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let installed: HashSet<&str> = listing
        .lines()
        .filter(|line| line.ends_with(" installed"))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    packages
        .iter()
        .filter(|name| !installed.contains(*name))
        .map(|name| name.to_string())
        .collect()
}

fn ensure_xcode_tools() -> Result<()> {
    match output_of(Command::new("xcode-select").arg("-p")) {
        Some(path) => {
            println!("Xcode command line tools: {}", path.trim());
            Ok(())
        }
        None => bail!(
            "the Xcode command line tools are missing: install them with `xcode-select --install`"
        ),
    }
}

/// The Evergreen WebView2 runtime registers its version under this client id (per machine or per user).
const WEBVIEW2_KEYS: &[&str] = &[
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}",
    r"HKLM\SOFTWARE\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}",
    r"HKCU\Software\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}",
];

fn ensure_webview2() -> Result<()> {
    let found = WEBVIEW2_KEYS
        .iter()
        .find(|key| output_of(Command::new("reg").args(["query", key, "/v", "pv"])).is_some());
    match found {
        Some(key) => {
            println!("WebView2 runtime found ({key})");
            Ok(())
        }
        None => bail!(
            "the Microsoft Edge WebView2 runtime is missing: install the Evergreen runtime from \
             https://developer.microsoft.com/microsoft-edge/webview2/ \
             (Tauri also needs the MSVC build tools: Visual Studio Build Tools with \"Desktop development with C++\")"
        ),
    }
}

/// Node.js and npm must be on PATH to build the UI and run the end-to-end tests.
pub fn ensure_node() -> Result<()> {
    let node = output_of(Command::new("node").arg("--version"));
    let npm = output_of(util::npm().arg("--version"));
    match (node, npm) {
        (Some(node), Some(npm)) => {
            println!("node {} / npm {}", node.trim(), npm.trim());
            Ok(())
        }
        (None, _) => {
            bail!("`node` was not found on PATH: install Node.js 20 or newer (https://nodejs.org)")
        }
        (Some(_), None) => bail!(
            "`npm` was not found on PATH: install it with Node.js 20 or newer (https://nodejs.org)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_debian_packages_are_reported_missing() {
        if !util::on_path("dpkg-query") {
            return; // Not a Debian system: nothing to check.
        }
        let missing = missing_debian_packages(&["dpkg", "xtask-no-such-package"]);
        assert_eq!(missing, vec!["xtask-no-such-package".to_string()]);
    }

    /// CI installs the packages before xtask runs; its lists must name the same ones.
    #[test]
    fn the_ci_package_lists_match() {
        let mut expected = [APP_PACKAGES, TEST_PACKAGES].concat();
        expected.sort_unstable();
        let root = util::repo_root();
        let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap();

        let ci_run = read(".ci/run");
        let list = ci_run.split("packages=(").nth(1).unwrap();
        let mut listed: Vec<&str> = list[..list.find(')').unwrap()].split_whitespace().collect();
        listed.sort_unstable();
        assert_eq!(listed, expected, ".ci/run");

        let workflow = read(".github/workflows/build.yml");
        let list = workflow.split("LINUX_PACKAGES: >-\n").nth(1).unwrap();
        let mut listed: Vec<&str> = list
            .lines()
            .take_while(|line| line.starts_with("    "))
            .flat_map(str::split_whitespace)
            .collect();
        listed.sort_unstable();
        assert_eq!(listed, expected, ".github/workflows/build.yml");
    }
}
