//! Running commands with a visible header, and timing the steps of a task.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// `cargo` as the one that started us, so rustup's toolchain choice carries over.
pub fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `npm` (a `.cmd` script on Windows, which `Command` does not find by its bare name).
pub fn npm() -> Command {
    Command::new(if cfg!(windows) { "npm.cmd" } else { "npm" })
}

/// Whether `program` is an executable file on PATH.
pub fn on_path(program: &str) -> bool {
    find_on_path(program).is_some()
}

pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    let suffixes: &[&str] = if cfg!(windows) {
        &["", ".exe", ".cmd", ".bat"]
    } else {
        &[""]
    };
    env::split_paths(&path).find_map(|dir| {
        suffixes
            .iter()
            .map(|suffix| dir.join(format!("{program}{suffix}")))
            .find(|candidate| candidate.is_file())
    })
}

/// The command line as a user would type it, for logs and error messages.
pub fn describe(cmd: &Command) -> String {
    let mut words = vec![shell_word(cmd.get_program())];
    words.extend(cmd.get_args().map(shell_word));
    words.join(" ")
}

fn shell_word(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with inherited stdio, echoing it first; fails when it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let line = describe(cmd);
    run_labelled(cmd, &line)
}

/// Like [`run`], but shows `line` instead of the real command line (for wrappers whose own words are noise).
pub fn run_labelled(cmd: &mut Command, line: &str) -> Result<()> {
    match cmd.get_current_dir() {
        Some(dir) => println!("$ {line}    (in {})", dir.display()),
        None => println!("$ {line}"),
    }
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` quietly and returns its stdout, or None when it cannot start or fails.
pub fn output_of(cmd: &mut Command) -> Option<String> {
    let output = cmd.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether this process runs as root (Unix); false elsewhere.
pub fn is_root() -> bool {
    cfg!(unix) && output_of(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

/// A fresh, empty folder under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("could not create {}", path.display()))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

enum Outcome {
    Passed,
    Failed,
    /// Failed, but optional: the task went on.
    Tolerated,
}

/// The steps of a task: each prints `==> name`, is timed, and the first failure stops the task.
#[derive(Default)]
pub struct Steps {
    done: Vec<(String, Duration, Outcome)>,
}

impl Steps {
    pub fn run<T>(&mut self, name: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        println!("\n==> {name}");
        let started = Instant::now();
        let result = step();
        let outcome = if result.is_ok() {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        self.done
            .push((name.to_string(), started.elapsed(), outcome));
        result.with_context(|| format!("step `{name}` failed"))
    }

    /// Like [`Steps::run`] for an optional step: a failure is recorded as "warn" and handed back, and the
    /// caller goes on.
    pub fn attempt(&mut self, name: &str, step: impl FnOnce() -> Result<()>) -> Result<()> {
        println!("\n==> {name}");
        let started = Instant::now();
        let result = step();
        let outcome = if result.is_ok() {
            Outcome::Passed
        } else {
            Outcome::Tolerated
        };
        self.done
            .push((name.to_string(), started.elapsed(), outcome));
        if let Err(error) = &result {
            println!("warning: optional step `{name}` failed, going on: {error:#}");
        }
        result
    }

    pub fn print_summary(&self) {
        let width = self
            .done
            .iter()
            .map(|(name, ..)| name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!("\n{:<width$}  {:<6}  {:>9}", "step", "result", "time");
        println!("{:-<width$}  {:-<6}  {:->9}", "", "", "");
        let mut total = Duration::ZERO;
        for (name, took, outcome) in &self.done {
            total += *took;
            let result = match outcome {
                Outcome::Passed => "ok",
                Outcome::Failed => "FAILED",
                Outcome::Tolerated => "warn",
            };
            println!("{name:<width$}  {result:<6}  {:>8.1}s", took.as_secs_f64());
        }
        println!(
            "{:<width$}  {:<6}  {:>8.1}s",
            "total",
            "",
            total.as_secs_f64()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_shown_as_a_shell_would_read_them() {
        let mut cmd = Command::new("cargo");
        cmd.args(["clippy", "--", "-D", "warnings", "it's here", ""]);
        assert_eq!(
            describe(&cmd),
            r"cargo clippy -- -D warnings 'it'\''s here' ''"
        );
    }

    #[test]
    fn a_failing_command_is_an_error_naming_it() {
        let mut cmd = Command::new("cargo");
        cmd.arg("--no-such-flag")
            .stderr(std::process::Stdio::null());
        let error = run(&mut cmd).unwrap_err();
        assert!(error.to_string().contains("`cargo --no-such-flag` failed"));
    }

    #[test]
    fn temp_dirs_are_removed_when_dropped() {
        let dir = TempDir::new("xtask-test").unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.is_dir());
        drop(dir);
        assert!(!path.exists());
    }
}
