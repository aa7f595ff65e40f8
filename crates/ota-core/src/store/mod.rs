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
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::db::{Dialect, PgPool, PgTarget, Sql, SqlExt, SqliteSql};
use crate::error::{CoreError, CoreResult};

pub use crate::campaign::store::{ClaimedDevice, DeviceUpdate, NewCampaignDevice, NewCampaignRow};
pub use audit::{AuditEntry, AuditQuery, AuditRecord};
pub use devices::{COUNT_CAP, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use jobs::{JobEvent, JobSample, JobState, JobView, NewJob};
pub use manual::{parse_device_csv, ManualDevice};
pub use plans::CachedPlan;

/// The notice [`Store::remote_changes`] gives after its connection was lost and made again: anything may
/// have changed meanwhile.
pub const RECONNECTED: &str = "*";

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// This machine's data folder (the firmware library, logs, downloads), in team mode too.
    data_dir: PathBuf,
}

#[derive(Clone)]
enum Backend {
    /// A desk: the embedded file.
    Sqlite {
        conn: Arc<Mutex<Connection>>,
        /// Reads go through their own connection: in WAL mode they see the last commit and never wait
        /// behind a long write (a 100 000-device import must not hold up the first page of the list).
        reader: Arc<Mutex<Connection>>,
        path: PathBuf,
    },
    /// A team: one PostgreSQL that every desk and `otactl serve` runner shares.
    Postgres(Arc<PgPool>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location())
            .finish()
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
            data_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            backend: Backend::Sqlite {
                conn: Arc::new(Mutex::new(conn)),
                reader: Arc::new(Mutex::new(reader)),
                path: path.to_path_buf(),
            },
        })
    }

    /// Connects to a team's PostgreSQL and brings its schema up to date (all-or-nothing, one process at
    /// a time however many start together).
    pub fn open_postgres(target: PgTarget, data_dir: &Path) -> CoreResult<Self> {
        crate::private_files::ensure_private_dir(data_dir).map_err(|source| CoreError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
        let pool = PgPool::connect(target)?;
        let store = Self {
            backend: Backend::Postgres(pool),
            data_dir: data_dir.to_path_buf(),
        };
        store.write(migrations::run_postgres)?;
        Ok(store)
    }

    /// The SQLite file, for a desk; `None` in team mode.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite { path, .. } => Some(path),
            Backend::Postgres(_) => None,
        }
    }

    /// This machine's data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where the data is, in words: the file's path, or the team database's URL (no password).
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Sqlite { path, .. } => path.display().to_string(),
            Backend::Postgres(pool) => pool.target().shown().to_string(),
        }
    }

    /// A cheap read through the store (`SELECT 1`): answers whether the data can be reached now (the
    /// team database over the network; the desk's own file).
    pub fn ping(&self) -> CoreResult<()> {
        self.read(|conn| conn.query_value::<i64>("SELECT 1", crate::db::params![]))
            .map(drop)
    }

    /// Which SQL engine holds the data.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Team mode: what other desks and runners change, as the kinds of data a view shows (batched by the
    /// caller). `None` for a desk's own file, where this process makes every change itself.
    pub fn remote_changes(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<String>> {
        match &self.backend {
            Backend::Sqlite { .. } => None,
            Backend::Postgres(pool) => Some(pool.listen("ota_console", RECONNECTED)),
        }
    }

    /// Team mode: the data is shared with other desks and runners.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Runs `f` inside one transaction: all of its writes land, or none do.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Sql) -> CoreResult<T>) -> CoreResult<T> {
        match &self.backend {
            Backend::Sqlite { conn, .. } => {
                // A panic while holding the lock cannot leave a half-done transaction behind (rusqlite
                // rolls back on drop), so the connection is still usable.
                let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let value = f(&SqliteSql(&tx))?;
                tx.commit()?;
                Ok(value)
            }
            Backend::Postgres(pool) => pool.write(f),
        }
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Sql) -> CoreResult<T>) -> CoreResult<T> {
        match &self.backend {
            Backend::Sqlite { reader, .. } => {
                let conn = reader
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                f(&SqliteSql(&conn))
            }
            Backend::Postgres(pool) => pool.read(f),
        }
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

/// Which back end [`open_test_store`] opens: `OTA_CONSOLE_TEST_STORE=postgres` runs the store's and the
/// engine's tests against PostgreSQL (`cargo xtask test` runs them once per back end).
pub const TEST_STORE_ENV: &str = "OTA_CONSOLE_TEST_STORE";

/// For tests: the store of the data folder `dir` on the back end under test. On PostgreSQL the folder
/// remembers its own fresh database, so opening the same folder again (a "restart", a second user)
/// reaches the same data, as it does with SQLite.
#[doc(hidden)]
pub fn open_test_store(dir: &Path) -> CoreResult<Store> {
    if std::env::var(TEST_STORE_ENV).as_deref() != Ok("postgres") {
        return Store::open_in(dir);
    }
    let marker = dir.join("test-database-url");
    let url = match std::fs::read_to_string(&marker) {
        Ok(url) => url,
        Err(_) => {
            let url = crate::db::fresh_test_database()?;
            std::fs::write(&marker, &url).map_err(|source| CoreError::Io {
                path: marker.display().to_string(),
                source,
            })?;
            url
        }
    };
    Store::open_postgres(PgTarget::parse(url.trim(), None)?, dir)
}

/// A new, empty store of the back end under test, with a data folder.
#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_test_store(dir.path()).expect("open the store under test");
    (dir, store)
}

/// A SQLite store whatever the back end under test, for tests of the file itself.
#[cfg(test)]
pub(crate) fn test_sqlite_store() -> (tempfile::TempDir, Store) {
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
            .write(|tx| tx.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);"))
            .unwrap();
        assert_eq!(mode(&data), 0o700);
        let db = crate::paths::database_path(&data);
        assert_eq!(mode(&db), 0o600);
        let wal = data.join("ota-console.sqlite3-wal");
        assert!(wal.exists(), "WAL mode keeps a -wal file while open");
        assert_eq!(mode(&wal), 0o600);
    }
}

#[cfg(test)]
mod change_notice_tests {
    use super::*;

    /// Team mode: a change made through one connection (another desk, a runner) reaches every listener,
    /// naming the table; a desk's own file has no such feed (its process makes every change itself).
    #[tokio::test]
    async fn another_process_s_change_is_noticed() {
        let (dir, store) = test_store();
        let Some(mut notices) = store.remote_changes() else {
            assert_eq!(store.dialect(), Dialect::Sqlite);
            return;
        };
        let other = open_test_store(dir.path()).unwrap();
        // The listener connects in the background: write until its first notice arrives.
        let noticed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                other
                    .audit(&AuditRecord {
                        actor: "runner-2",
                        action: "campaign.start",
                        cloud: None,
                        target: None,
                        result: "ok",
                        detail: None,
                    })
                    .unwrap();
                if let Ok(Some(table)) =
                    tokio::time::timeout(Duration::from_millis(200), notices.recv()).await
                {
                    return table;
                }
            }
        })
        .await
        .expect("a notice within 10 s");
        assert_eq!(noticed, "audit_log");
    }
}

#[cfg(test)]
mod ping_tests {
    use super::*;

    #[test]
    fn a_reachable_store_answers_a_ping() {
        let (_dir, store) = test_store();
        store.ping().expect("the store answers SELECT 1");
    }
}
