//! A private, unlocked keychain for tests, so the `keyring` tests and the app use a real secret store.
//!
//! On Linux that is a throwaway D-Bus session bus with gnome-keyring as its Secret Service, unlocked with a
//! fixed password. macOS (Keychain) and Windows (Credential Manager) need nothing: their stores are always there.

use std::process::Command;

use anyhow::{bail, Result};

use crate::util::{self, TempDir};

/// Runs inside `dbus-run-session`: starts gnome-keyring unlocked, runs the wrapped command, stops the keyring.
/// `gnome-keyring-daemon --unlock` reads the password on stdin and, once it serves, prints
/// `GNOME_KEYRING_CONTROL=/path` (no `export`), which we evaluate and export; clients find the Secret Service
/// over the session bus. It runs in the foreground so we know its pid and can stop it: a daemonized keyring
/// can outlive the bus and keep the caller's stdout open.
const KEYRING_SESSION: &str = r#"
keyring_env=$(mktemp) || exit 1
printf '%s' "$XTASK_KEYRING_PASSWORD" | gnome-keyring-daemon --foreground --unlock --components=secrets >"$keyring_env" &
keyring_pid=$!
unset XTASK_KEYRING_PASSWORD
waited=0
while [ ! -s "$keyring_env" ]; do
    if ! kill -0 "$keyring_pid" 2>/dev/null || [ "$waited" -ge 100 ]; then
        echo "xtask: gnome-keyring-daemon did not start" >&2
        kill "$keyring_pid" 2>/dev/null; rm -f "$keyring_env"; exit 1
    fi
    sleep 0.1; waited=$((waited + 1))
done
eval "$(cat "$keyring_env")"
rm -f "$keyring_env"
export GNOME_KEYRING_CONTROL
"$@"
status=$?
kill "$keyring_pid" 2>/dev/null
wait "$keyring_pid" 2>/dev/null
exit "$status"
"#;

/// Runs `inner` (its program, arguments, working folder and environment) inside a private keychain session.
pub fn run_in_session(inner: &mut Command) -> Result<()> {
    run_in_session_under(&[], inner)
}

/// Like [`run_in_session`], with `launcher` (e.g. `xvfb-run -a`) starting the session, so the session bus and
/// every service it activates inherit what the launcher sets up (such as DISPLAY).
pub fn run_in_session_under(launcher: &[&str], inner: &mut Command) -> Result<()> {
    if !cfg!(target_os = "linux") {
        return util::run(inner);
    }
    for (program, package) in [
        ("dbus-run-session", "dbus-daemon (comes with dbus-x11)"),
        ("gnome-keyring-daemon", "gnome-keyring"),
    ] {
        if !util::on_path(program) {
            bail!("`{program}` is missing: install the Debian package {package}");
        }
    }
    // A fresh XDG_DATA_HOME holds a fresh login.keyring, so an old one with another password cannot block the unlock.
    let keyring_home = TempDir::new("xtask-keyring")?;
    let mut session = match launcher.split_first() {
        Some((program, args)) => {
            let mut session = Command::new(program);
            session.args(args).arg("dbus-run-session");
            session
        }
        None => Command::new("dbus-run-session"),
    };
    session
        .args(["--", "sh", "-c", KEYRING_SESSION, "sh"])
        .arg(inner.get_program())
        .args(inner.get_args())
        .env("XDG_DATA_HOME", keyring_home.path())
        .env("XTASK_KEYRING_PASSWORD", "ota-console-tests");
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => session.env(key, value),
            None => session.env_remove(key),
        };
    }
    if let Some(dir) = inner.get_current_dir() {
        session.current_dir(dir);
    }
    println!(
        "(in a private D-Bus session with an unlocked gnome-keyring, XDG_DATA_HOME={})",
        keyring_home.path().display()
    );
    let shown = [launcher.join(" "), util::describe(inner)].join(" ");
    util::run_labelled(&mut session, shown.trim_start())
}
