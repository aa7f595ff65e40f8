//! The local SQLite cache: accounts, the last known fleet, jobs and their history, plans and the audit log.
//!
//! One connection behind a mutex: the console's writes are small and few per second, and a single writer
//! keeps every multi-row change inside one transaction without lock juggling.

mod accounts;
pub(crate) mod audit;
pub(crate) mod cohorts;
mod devices;
mod firmware;
mod jobs;
mod manual;
mod migrations;
mod plans;
pub(crate) mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{CoreError, CoreResult};

pub use crate::campaign::store::{ClaimedDevice, DeviceUpdate, NewCampaignDevice, NewCampaignRow};
pub use audit::{AuditEntry, AuditQuery, AuditRecord};
pub use devices::{COUNT_CAP, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use jobs::{JobEvent, JobSample, JobState, JobView, NewJob};
pub use manual::{parse_device_csv, ManualDevice};
pub use plans::CachedPlan;

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// Reads go through their own connection: in WAL mode they see the last commit and never wait behind a
    /// long write (a 100 000-device import must not hold up the first page of the list).
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub fn open_in(data_dir: &Path) -> CoreResult<Self> {
        crate::private_files::ensure_private_dir(data_dir).map_err(|source| CoreError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
        Self::open(&crate::paths::database_path(data_dir))
    }

    pub fn open(path: &Path) -> CoreResult<Self> {
        // SQLite creates its -wal and -shm files with the database file's mode: create it private first.
        let private = |p: &Path| {
            crate::private_files::restrict_file_if_present(p).map_err(|source| CoreError::Io {
                path: p.display().to_string(),
                source,
            })
        };
        if !path.exists() {
            crate::private_files::open_private_append(path).map_err(|source| CoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        private(path)?;
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrations::run(&mut conn)?;
        let reader = Connection::open(path)?;
        configure(&reader)?;
        reader.pragma_update(None, "query_only", true)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            private(Path::new(&side))?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            reader: Arc::new(Mutex::new(reader)),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done transaction behind (rusqlite rolls back
        // on drop), so the connection is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` inside one transaction: all of its writes land, or none do.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> CoreResult<T>) -> CoreResult<T> {
        let conn = self
            .reader
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&conn)
    }
}

fn configure(conn: &Connection) -> CoreResult<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // WAL survives a crash mid-write and lets otactl read while the window writes; NORMAL is durable in WAL
    // except for the last transactions before a power loss, never corrupting.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // A fleet refresh updates several indexes and the trigram index per device: with SQLite's default
    // 2 MiB page cache those pages are read back from the OS for every row (profiled in bench/RESULTS.md).
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_in(dir.path()).expect("open store");
    (dir, store)
}

#[cfg(all(test, unix))]
mod file_mode_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_folder_and_database_files_are_private_to_the_user() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("ota-console");
        // A folder made earlier with a permissive umask is tightened too.
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let store = Store::open_in(&data).unwrap();
        store
            .write(|tx| Ok(tx.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")?))
            .unwrap();
        assert_eq!(mode(&data), 0o700);
        let db = crate::paths::database_path(&data);
        assert_eq!(mode(&db), 0o600);
        let wal = data.join("ota-console.sqlite3-wal");
        assert!(wal.exists(), "WAL mode keeps a -wal file while open");
        assert_eq!(mode(&wal), 0o600);
    }
}
