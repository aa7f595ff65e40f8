//! One window per data folder, and what `otactl` may begin while a window has the folder open.
//!
//! The rule, in one place:
//! - **The window holds `<data>/.lock`** (an exclusive OS file lock, [`WindowLock`]) for as long as it
//!   runs. A second window on the same folder cannot take it: it hands over to the first (the desktop
//!   shell brings that window to the front) and exits. Another data folder has its own lock, so two
//!   folders run side by side on purpose.
//! - **While a window has the folder open, `otactl` follows work already under way there but begins
//!   none** ([`cli_may_begin`]): `campaign start` of a campaign that is running follows it (its lease
//!   decides who drives), `vicohome start` of a camera already updating follows that job; a campaign
//!   `start` that would set it running, `resume`, `retry-failed` and a new `vicohome start` are refused
//!   with `conflict`, naming the window's process. `pause` and `cancel` only stop work and are allowed.
//! - **Read-only commands never look at the lock**, so they never wait or fail because of it.
//!
//! The lock says who drives; it is not what keeps work safe. A window that opens a moment after
//! `otactl` checked is harmless: a campaign is driven only by its lease holder, and the store's unique
//! index allows one unfinished job per device, so nothing is started twice whatever the interleaving.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorKind};

/// The lock file in the data folder.
pub const LOCK_FILE: &str = ".lock";

pub fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LOCK_FILE)
}

/// Who holds the folder, as the holder wrote it into the lock file (best effort: the lock is what
/// counts, this only names it in messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub program: String,
    pub pid: u32,
    pub host: String,
}

impl LockHolder {
    fn this_process() -> Self {
        Self {
            program: "OTA Console".to_string(),
            pid: std::process::id(),
            host: crate::campaign::lease::host_name().to_string(),
        }
    }

    pub fn describe(&self) -> String {
        format!("{} pid {} on host {}", self.program, self.pid, self.host)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FolderLockError {
    /// Another window has the folder open.
    #[error("the data folder {} is in use by another OTA Console window{}", dir.display(), holder_suffix(holder.as_ref()))]
    InUse {
        dir: PathBuf,
        holder: Option<LockHolder>,
    },
    #[error("cannot lock the data folder at {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn holder_suffix(holder: Option<&LockHolder>) -> String {
    holder
        .map(|h| format!(" ({})", h.describe()))
        .unwrap_or_default()
}

/// The window's hold on its data folder; released when dropped (and by the OS when the process ends,
/// however it ends).
#[derive(Debug)]
pub struct WindowLock {
    // Held open for the lock; never read or written after taking it.
    _file: File,
    path: PathBuf,
}

impl WindowLock {
    /// Takes the folder's lock, creating the folder (private) and the lock file if needed.
    pub fn acquire(data_dir: &Path) -> Result<Self, FolderLockError> {
        let path = lock_path(data_dir);
        let io_error = |source| FolderLockError::Io {
            path: path.clone(),
            source,
        };
        crate::private_files::ensure_private_dir(data_dir).map_err(io_error)?;
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(FolderLockError::InUse {
                    dir: data_dir.to_path_buf(),
                    holder: read_holder(&path),
                })
            }
            Err(TryLockError::Error(source)) => return Err(io_error(source)),
        }
        // Name the holder for the messages of a second window and of otactl. A failure here leaves the
        // lock held and only the name unknown.
        let holder = serde_json::to_vec(&LockHolder::this_process()).unwrap_or_default();
        let named = file
            .set_len(0)
            .and_then(|()| file.write_all(&holder))
            .and_then(|()| file.flush());
        if let Err(err) = named {
            tracing::warn!(path = %path.display(), error = %err, "could not name this window in the lock file");
        }
        Ok(Self { _file: file, path })
    }

    /// Like [`WindowLock::acquire`], but tries again for up to `patience` while the lock is busy: an
    /// `otactl` that checks the folder holds the lock (shared) for an instant, which must not look like
    /// another window.
    pub fn acquire_patiently(data_dir: &Path, patience: Duration) -> Result<Self, FolderLockError> {
        let deadline = Instant::now() + patience;
        loop {
            match Self::acquire(data_dir) {
                Err(FolderLockError::InUse { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn read_holder(path: &Path) -> Option<LockHolder> {
    // On Windows a locked file cannot be read by others: the holder is then simply not named.
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// A window that has the folder open, as [`window_in`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenWindow {
    pub holder: Option<LockHolder>,
}

impl OpenWindow {
    pub fn describe(&self) -> String {
        match &self.holder {
            Some(holder) => holder.describe(),
            None => "OTA Console".to_string(),
        }
    }
}

/// Whether a window has the folder open now. Never waits; creates nothing.
pub fn window_in(data_dir: &Path) -> io::Result<Option<OpenWindow>> {
    let path = lock_path(data_dir);
    let file = match File::open(&path) {
        Ok(file) => file,
        // No window ever opened this folder.
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    match file.try_lock_shared() {
        Ok(()) => {
            // Released at once: a window starting now must find the folder free.
            file.unlock()?;
            Ok(None)
        }
        Err(TryLockError::WouldBlock) => Ok(Some(OpenWindow {
            holder: read_holder(&path),
        })),
        Err(TryLockError::Error(err)) => Err(err),
    }
}

/// Work an `otactl` command is about to begin in a data folder (following work already under way is
/// not beginning any, and is not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliWork<'a> {
    /// `campaign start` of a campaign that is not running yet.
    StartCampaign(i64),
    /// `campaign resume` of a campaign that is not running.
    ResumeCampaign(i64),
    /// `campaign retry-failed`: puts failed devices back in the queue.
    RetryFailed(i64),
    /// `vicohome start` of a camera with no update under way.
    StartUpdate(&'a str),
}

impl CliWork<'_> {
    fn describe(&self) -> String {
        match self {
            CliWork::StartCampaign(id) => format!("start campaign {id}"),
            CliWork::ResumeCampaign(id) => format!("resume campaign {id}"),
            CliWork::RetryFailed(id) => format!("retry the failed devices of campaign {id}"),
            CliWork::StartUpdate(serial) => format!("start an update of {serial}"),
        }
    }

    fn where_in_window(&self) -> &'static str {
        match self {
            CliWork::StartUpdate(_) => "Devices",
            _ => "Campaigns",
        }
    }
}

/// May `otactl` begin `work` in `data_dir`? Refused (`conflict`) while a window has the folder open;
/// see the module's rule.
pub fn cli_may_begin(data_dir: &Path, work: CliWork<'_>) -> Result<(), ApiError> {
    let window = window_in(data_dir).map_err(|err| {
        ApiError::internal(format!(
            "Cannot tell whether OTA Console has {} open: {err}.",
            data_dir.display()
        ))
    })?;
    match window {
        None => Ok(()),
        Some(window) => Err(ApiError::new(
            ErrorKind::Conflict,
            format!(
                "Not done: {} has this data folder open ({}), so otactl does not {} here.",
                window.describe(),
                data_dir.display(),
                work.describe()
            ),
        )
        .with_hint(format!(
            "Do it in the window ({}), or close the window first. Commands that only read \
             (status, list, export) and pause / cancel work while it is open.",
            work.where_in_window()
        ))),
    }
}

/// A short id of a data folder (16 hex digits of the SHA-256 of its full path), for names that must
/// differ per folder, such as the desktop shell's single-instance D-Bus name.
pub fn folder_id(data_dir: &Path) -> String {
    let full = std::fs::canonicalize(data_dir)
        .or_else(|_| std::path::absolute(data_dir))
        .unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(full.to_string_lossy().as_bytes());
    crate::hex::lower_hex(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_window_on_the_same_folder_is_refused_and_named() {
        let data = tempfile::tempdir().unwrap();
        let first = WindowLock::acquire(data.path()).unwrap();
        match WindowLock::acquire(data.path()) {
            Err(FolderLockError::InUse { dir, holder }) => {
                assert_eq!(dir, data.path());
                let holder = holder.expect("the first window is named");
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.program, "OTA Console");
            }
            other => panic!("a second window took the folder: {other:?}"),
        }
        let message = WindowLock::acquire(data.path()).unwrap_err().to_string();
        assert!(
            message.contains("is in use by another OTA Console window"),
            "{message}"
        );

        // Another folder is not affected; the folder is free again once the first window is gone.
        let other = tempfile::tempdir().unwrap();
        let _second_folder = WindowLock::acquire(other.path()).unwrap();
        drop(first);
        let _again = WindowLock::acquire(data.path()).unwrap();
    }

    #[test]
    fn otactl_begins_nothing_while_a_window_is_open_and_everything_after() {
        let data = tempfile::tempdir().unwrap();
        // Never opened by a window: no lock file, and otactl creates none.
        assert_eq!(window_in(data.path()).unwrap(), None);
        assert!(cli_may_begin(data.path(), CliWork::StartCampaign(4)).is_ok());
        assert!(!lock_path(data.path()).exists());

        let window = WindowLock::acquire(data.path()).unwrap();
        let open = window_in(data.path()).unwrap().expect("the window is seen");
        assert_eq!(open.holder.map(|h| h.pid), Some(std::process::id()));
        for work in [
            CliWork::StartCampaign(4),
            CliWork::ResumeCampaign(4),
            CliWork::RetryFailed(4),
            CliWork::StartUpdate("SN1"),
        ] {
            let err = cli_may_begin(data.path(), work).unwrap_err();
            assert_eq!(err.code, ErrorKind::Conflict, "{work:?}");
            assert!(
                err.message.contains(&format!("pid {}", std::process::id())),
                "{}",
                err.message
            );
            assert!(err
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("close the window"));
        }
        // The check left the window's lock as it was.
        assert!(matches!(
            WindowLock::acquire(data.path()),
            Err(FolderLockError::InUse { .. })
        ));

        drop(window);
        assert_eq!(window_in(data.path()).unwrap(), None);
        assert!(cli_may_begin(data.path(), CliWork::StartUpdate("SN1")).is_ok());
    }

    #[test]
    fn a_window_starting_while_otactl_checks_waits_out_the_check() {
        let data = tempfile::tempdir().unwrap();
        drop(WindowLock::acquire(data.path()).unwrap());
        // otactl's check, held a little longer than it ever is.
        let probe = File::open(lock_path(data.path())).unwrap();
        probe.lock_shared().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            probe.unlock().unwrap();
        });
        assert!(matches!(
            WindowLock::acquire(data.path()),
            Err(FolderLockError::InUse { .. })
        ));
        let lock = WindowLock::acquire_patiently(data.path(), Duration::from_secs(5));
        release.join().unwrap();
        assert!(lock.is_ok(), "{lock:?}");
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let data = tempfile::tempdir().unwrap();
        let lock = WindowLock::acquire(&data.path().join("new")).unwrap();
        let mode = std::fs::metadata(lock.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn folder_ids_differ_per_folder_and_are_stable() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_eq!(folder_id(a.path()), folder_id(a.path()));
        assert_ne!(folder_id(a.path()), folder_id(b.path()));
        assert_eq!(folder_id(a.path()).len(), 16);
        assert!(folder_id(a.path()).bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
