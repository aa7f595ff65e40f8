//! Team mode in Settings: which database this desk works on (its own SQLite file, or the team's
//! PostgreSQL), whether it answers, and choosing another one.
//!
//! Which database the window opens is decided once, at start ([`TeamDatabase::for_window`]):
//! `OTA_CONSOLE_DATABASE_URL` wins; else the URL saved here (`team-database.json` in the data folder, private
//! to the user, never holding a password); else the desk's own file. The password is kept in the OS
//! keychain under [`TeamDatabase::keychain_key`]. A choice saved here takes effect at the next start; a
//! team database that cannot be opened at start leaves the window on the desk's own file, saying why.

use std::path::{Path, PathBuf};

use ota_core::db::{PgPool, PgTarget};
use ota_core::{CoreError, SecretSlot};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{blocking, ApiError, App, ErrorKind, Secret, TeamDatabase};

/// Names the team database for the window and `otactl`; it wins over what Settings saved.
pub const DATABASE_URL_ENV: &str = "OTA_CONSOLE_DATABASE_URL";

/// The file in the data folder that keeps the team database chosen in Settings (its URL only).
pub const SETTINGS_FILE: &str = "team-database.json";

/// Which data this window works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseMode {
    /// The desk's own SQLite file in its data folder.
    Desk,
    /// The team's shared PostgreSQL.
    Team,
}

/// Where the team database the window started with was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TeamDatabaseSource {
    /// `OTA_CONSOLE_DATABASE_URL`.
    Environment,
    /// Saved in Settings (`team-database.json`).
    Settings,
}

/// Settings → Team database: what this window uses now and what the next start will use.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TeamDatabaseStatus {
    /// What this window works on now.
    pub mode: DatabaseMode,
    /// The SQLite file's path, or the team database's URL (never a password).
    pub location: String,
    /// Where the team database named at start came from; none when none was named. With `mode` `desk`,
    /// that team database could not be opened and `error` says why.
    pub source: Option<TeamDatabaseSource>,
    /// A read through the store just worked.
    pub live: bool,
    /// Why the data cannot be read now, why the team database named at start is not in use, or why the
    /// saved setting cannot be read.
    pub error: Option<ApiError>,
    /// The team database saved in Settings (used at start unless the environment names one).
    pub saved_url: Option<String>,
    /// The team database `OTA_CONSOLE_DATABASE_URL` names: it wins over the saved one.
    pub environment_url: Option<String>,
    /// The next start would open other data than this window uses: restart to switch.
    pub restart_needed: bool,
}

/// `team-database.json`.
#[derive(Debug, Serialize, Deserialize)]
struct SavedTeamDatabase {
    url: String,
}

/// What start-up knew about the team database, for [`App::team_database_status`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TeamStart {
    pub(crate) source: Option<TeamDatabaseSource>,
    /// Why the team database named at start is not in use (the window fell back to the desk's file).
    pub(crate) fallback: Option<ApiError>,
}

fn settings_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SETTINGS_FILE)
}

/// The team database URL saved in Settings, if any.
pub fn saved_team_database_url(data_dir: &Path) -> Result<Option<String>, ApiError> {
    let path = settings_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(ApiError::internal(format!(
                "The team database setting {} cannot be read: {err}",
                path.display()
            )))
        }
    };
    let saved: SavedTeamDatabase = serde_json::from_str(&text).map_err(|err| {
        ApiError::internal(format!(
            "The team database setting {} is damaged: {err}",
            path.display()
        ))
        .with_hint("Save the team database again, or choose “Use this desk's own data”.")
    })?;
    Ok(Some(saved.url).filter(|url| !url.trim().is_empty()))
}

/// `OTA_CONSOLE_DATABASE_URL`, when set and not empty.
fn environment_url() -> Option<String> {
    std::env::var(DATABASE_URL_ENV)
        .ok()
        .map(|url| url.trim().to_string())
        .filter(|url| !url.is_empty())
}

/// A team database URL as it may be shown: any password in it replaced.
fn shown(url: &str) -> String {
    PgTarget::parse(url, None)
        .map(|target| target.shown().to_string())
        .unwrap_or_else(|_| "(not a PostgreSQL URL)".to_string())
}

impl TeamDatabase {
    /// The team database the window opens: `OTA_CONSOLE_DATABASE_URL`, else the one saved in Settings,
    /// else none (the desk's own file). If it cannot be opened, the window opens the desk's own file and
    /// says why. A damaged setting is logged and said in Settings.
    pub fn for_window(data_dir: &Path) -> Option<TeamDatabase> {
        let (url, source) = match environment_url() {
            Some(url) => (url, TeamDatabaseSource::Environment),
            None => match saved_team_database_url(data_dir) {
                Ok(Some(url)) => (url, TeamDatabaseSource::Settings),
                Ok(None) => return None,
                Err(err) => {
                    tracing::error!(error = %err.display_line(), "ignoring the saved team database");
                    return None;
                }
            },
        };
        let mut team = TeamDatabase::from_url(Some(&url))?;
        team.source = Some(source);
        team.fall_back_to_desk = true;
        Some(team)
    }
}

/// What the window says when it opened the desk's own file instead of the team database.
pub(crate) fn fallback_notice(err: &ApiError) -> ApiError {
    let reason = err
        .message
        .strip_prefix("The team database cannot be reached: ")
        .unwrap_or(&err.message);
    ApiError::new(
        err.code,
        format!("Team database unreachable: {reason} — using this desk's own data."),
    )
    .with_hint(
        "Check that the team database is running and reachable (and its password), then restart. \
         Changes made now stay in this desk's own file.",
    )
}

/// A connection attempt's failure, in words for the Settings form.
fn connect_error(err: CoreError, shown: &str) -> ApiError {
    if let CoreError::TeamDatabase {
        message,
        unreachable: false,
    } = &err
    {
        // SQLSTATE 28P01 / 28000: wrong password, or no such user (or not allowed from here).
        if message.starts_with("28P01") || message.starts_with("28000") {
            return ApiError::new(
                ErrorKind::Auth,
                format!("The team database at {shown} refused the user or password: {message}"),
            )
            .with_hint("Check the password, and the user name in the URL.");
        }
        // 3D000: no such database.
        if message.starts_with("3D000") {
            return ApiError::validation(format!(
                "The team database at {shown} does not exist: {message}"
            ))
            .with_hint("Check the database name at the end of the URL.");
        }
    }
    let api = ApiError::from(err);
    if api.code == ErrorKind::Offline {
        return api.with_hint(
            "Check the host and port, and that PostgreSQL accepts connections from this computer.",
        );
    }
    api
}

/// The URL is one to keep: a PostgreSQL URL with no password in it (the password goes to the keychain).
fn check_url(url: &str) -> Result<(), ApiError> {
    if url.is_empty() {
        return Err(ApiError::validation(
            "Give the team database's URL: postgres://user@host:5432/database.",
        ));
    }
    let to_validation = |err: CoreError| match err {
        CoreError::TeamDatabase { message, .. } => ApiError::validation(message)
            .with_hint("A team database URL looks like postgres://user@host:5432/database."),
        other => ApiError::from(other),
    };
    PgTarget::parse(url, None).map_err(to_validation)?;
    if url::Url::parse(url).is_ok_and(|parsed| parsed.password().is_some()) {
        return Err(ApiError::validation(
            "The URL holds a password: it would be kept in a file and shown.",
        )
        .with_hint(
            "Remove it from the URL and type it in the password box: it goes to the keychain.",
        ));
    }
    Ok(())
}

impl App {
    /// Settings → Team database: what this window works on, whether it answers now (a `SELECT 1`), and
    /// what the next start will open.
    pub async fn team_database_status(&self) -> Result<TeamDatabaseStatus, ApiError> {
        let store = self.console.store().clone();
        let (location, shared, ping) = blocking(move || {
            let ping = store.ping().map_err(ApiError::from);
            Ok((store.location(), store.is_shared(), ping))
        })
        .await?;
        let saved = saved_team_database_url(&self.data_dir);
        let environment = environment_url();
        let running = shared.then(|| location.clone());
        let next = environment
            .clone()
            .or_else(|| saved.clone().ok().flatten())
            .map(|url| shown(&url));
        let live = ping.is_ok();
        let error = ping
            .err()
            .or_else(|| self.team.fallback.clone())
            .or_else(|| saved.clone().err());
        Ok(TeamDatabaseStatus {
            mode: if shared {
                DatabaseMode::Team
            } else {
                DatabaseMode::Desk
            },
            location,
            source: self.team.source,
            live,
            error,
            saved_url: saved.ok().flatten().map(|url| shown(&url)),
            environment_url: environment.map(|url| shown(&url)),
            restart_needed: running != next,
        })
    }

    /// Saves the team database this desk opens from its next start: the URL is checked and connected to
    /// (a wrong URL, user or password is refused here, and nothing is kept); then the password goes to the
    /// keychain and the URL to the data folder. With no password given, the keychain's entry for the URL
    /// is used (a server that needs none is fine too). Audited.
    pub async fn save_team_database(
        &self,
        url: &str,
        password: Option<Secret>,
    ) -> Result<TeamDatabaseStatus, ApiError> {
        let url = url.trim().to_string();
        let result = self.save_team_database_inner(&url, password).await;
        self.console.audit(
            "team_database.save",
            None,
            Some(&shown(&url)),
            &result.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        result?;
        self.team_database_status().await
    }

    async fn save_team_database_inner(
        &self,
        url: &str,
        password: Option<Secret>,
    ) -> Result<(), ApiError> {
        check_url(url)?;
        let password = password.filter(|p| !p.expose().is_empty());
        let team = TeamDatabase::from_url(Some(url))
            .ok_or_else(|| ApiError::validation("Give the team database's URL."))?;
        let key = team.keychain_key();
        let secrets = self.console.secrets().clone();
        let trying = match &password {
            Some(given) => Some(given.clone()),
            None => secrets.get(&key, SecretSlot::Credential)?,
        };
        let target = PgTarget::parse(url, trying.as_ref().map(Secret::expose))?;
        let shown_url = target.shown().to_string();
        // A connection of its own, closed at once: nothing is written to the team database here.
        blocking(move || {
            PgPool::connect(target)
                .map(drop)
                .map_err(|err| connect_error(err, &shown_url))
        })
        .await?;

        let previous = saved_team_database_url(&self.data_dir).ok().flatten();
        if let Some(given) = &password {
            secrets.set(&key, SecretSlot::Credential, given)?;
        }
        let text = serde_json::to_string_pretty(&SavedTeamDatabase {
            url: url.to_string(),
        })
        .map_err(|e| ApiError::internal(format!("could not write the setting: {e}")))?;
        let path = settings_path(&self.data_dir);
        ota_core::private_files::write_private(&path, text.as_bytes()).map_err(|err| {
            ApiError::internal(format!(
                "The team database setting could not be written to {}: {err}",
                path.display()
            ))
        })?;
        // The password of a team database no longer chosen is not kept.
        if let Some(old) = previous.filter(|old| old.trim() != url) {
            if let Some(old) = TeamDatabase::from_url(Some(&old)) {
                if let Err(err) = secrets.delete(&old.keychain_key(), SecretSlot::Credential) {
                    tracing::warn!(error = %err, "could not delete the previous team database's password");
                }
            }
        }
        Ok(())
    }

    /// Back to the desk's own file from the next start: the saved team database and its keychain entry
    /// are deleted (`OTA_CONSOLE_DATABASE_URL`, when set, still wins). Audited.
    pub async fn clear_team_database(&self) -> Result<TeamDatabaseStatus, ApiError> {
        // A damaged setting is cleared too.
        let saved = saved_team_database_url(&self.data_dir).ok().flatten();
        let result: Result<(), ApiError> = (|| {
            if let Some(team) = saved
                .as_deref()
                .and_then(|url| TeamDatabase::from_url(Some(url)))
            {
                self.console
                    .secrets()
                    .delete(&team.keychain_key(), SecretSlot::Credential)?;
            }
            let path = settings_path(&self.data_dir);
            match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(err) => Err(ApiError::internal(format!(
                    "The team database setting {} could not be deleted: {err}",
                    path.display()
                ))),
            }
        })();
        self.console.audit(
            "team_database.clear",
            None,
            saved.as_deref().map(shown).as_deref(),
            &result.clone(),
        );
        result?;
        self.team_database_status().await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use ota_core::{CoreError, SecretStore};

    use super::*;
    use crate::{Launcher, OpenOptions, SandboxChoice};

    #[derive(Default)]
    struct MemorySecrets(Mutex<HashMap<String, Secret>>);

    impl SecretStore for MemorySecrets {
        fn set(&self, key: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError> {
            self.0
                .lock()
                .unwrap()
                .insert(format!("{key}#{slot:?}"), secret.clone());
            Ok(())
        }
        fn get(&self, key: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .get(&format!("{key}#{slot:?}"))
                .cloned())
        }
        fn delete(&self, key: &str, slot: SecretSlot) -> Result<(), CoreError> {
            self.0.lock().unwrap().remove(&format!("{key}#{slot:?}"));
            Ok(())
        }
    }

    async fn open(
        data: &Path,
        database: Option<TeamDatabase>,
        secrets: Arc<MemorySecrets>,
    ) -> Result<Arc<App>, ApiError> {
        App::open_with(
            OpenOptions {
                data_dir: Some(data.to_path_buf()),
                launcher: Launcher::Window,
                sandbox: SandboxChoice::Off,
                account: None,
                database,
                actor: None,
            },
            secrets,
            Arc::new(ota_clouds::CloudConnector::default()),
        )
        .await
    }

    /// A data folder and a throwaway database's URL, when the tests have a PostgreSQL.
    fn test_database() -> Option<String> {
        if std::env::var(ota_core::db::TEST_DATABASE_URL_ENV).is_err() {
            eprintln!(
                "skipped: {} is not set",
                ota_core::db::TEST_DATABASE_URL_ENV
            );
            return None;
        }
        Some(ota_core::db::fresh_test_database().expect("a fresh test database"))
    }

    #[tokio::test]
    async fn a_desk_is_on_its_own_file_and_live() {
        let dir = tempfile::tempdir().unwrap();
        let app = open(dir.path(), None, Arc::default()).await.unwrap();
        let status = app.team_database_status().await.unwrap();
        assert_eq!(status.mode, DatabaseMode::Desk);
        assert!(status.live, "{status:?}");
        assert_eq!(status.error, None);
        assert_eq!(status.source, None);
        assert_eq!(status.saved_url, None);
        assert!(status.location.ends_with(".sqlite3"), "{}", status.location);
        // Unless the environment names a team database, nothing else would open at the next start.
        assert_eq!(status.restart_needed, status.environment_url.is_some());
    }

    #[tokio::test]
    async fn save_refuses_a_bad_url_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        let app = open(dir.path(), None, secrets.clone()).await.unwrap();
        for (url, code) in [
            ("", ErrorKind::Validation),
            ("mysql://me@db.example.com/ota", ErrorKind::Validation),
            (
                "postgres://me:hunter2@db.example.com/ota",
                ErrorKind::Validation,
            ),
            // Nothing listens on port 1: refused before anything is kept.
            ("postgres://me@127.0.0.1:1/ota", ErrorKind::Offline),
        ] {
            let err = app
                .save_team_database(url, Some(Secret::new("s3cret")))
                .await
                .expect_err(url);
            assert_eq!(err.code, code, "{url}: {err:?}");
            assert!(
                !err.message.contains("hunter2"),
                "a password is never echoed: {}",
                err.message
            );
        }
        assert!(!dir.path().join(SETTINGS_FILE).exists());
        assert!(secrets.0.lock().unwrap().is_empty(), "no password kept");
        let status = app.team_database_status().await.unwrap();
        assert_eq!(status.saved_url, None);
    }

    #[tokio::test]
    async fn a_team_database_that_cannot_be_reached_at_start_leaves_the_desk_on_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut team = TeamDatabase::from_url(Some("postgres://me@127.0.0.1:1/ota")).unwrap();
        team.source = Some(TeamDatabaseSource::Settings);
        team.fall_back_to_desk = true;
        let app = open(dir.path(), Some(team), Arc::default())
            .await
            .expect("the window opens on the desk's own file");
        let status = app.team_database_status().await.unwrap();
        assert_eq!(status.mode, DatabaseMode::Desk);
        assert_eq!(status.source, Some(TeamDatabaseSource::Settings));
        assert!(status.live);
        let error = status.error.expect("says why");
        assert!(
            error.message.starts_with("Team database unreachable: "),
            "{}",
            error.message
        );
        assert!(error.message.ends_with("using this desk's own data."));
        assert!(
            error.message.contains("127.0.0.1:1"),
            "names the database: {}",
            error.message
        );
        assert!(
            error.message.to_lowercase().contains("refused"),
            "says why: {}",
            error.message
        );
        // Said at start too.
        let notices = app.connect_sandbox().await;
        assert!(
            notices
                .iter()
                .any(|n| n.starts_with("Team database unreachable")),
            "{notices:?}"
        );
        // Without the window's fallback (otactl), the failure ends the start.
        let strict = TeamDatabase::from_url(Some("postgres://me@127.0.0.1:1/ota")).unwrap();
        let other = tempfile::tempdir().unwrap();
        assert!(open(other.path(), Some(strict), Arc::default())
            .await
            .is_err());
    }

    #[tokio::test]
    async fn the_setting_is_private_and_chosen_at_the_next_start_and_cleared() {
        let Some(url) = test_database() else { return };
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        let desk = open(dir.path(), None, secrets.clone()).await.unwrap();

        // A database that does not exist on a reachable server is refused in words.
        let mut missing = url::Url::parse(&url).unwrap();
        missing.set_path("no_such_database");
        let err = desk
            .save_team_database(missing.as_str(), None)
            .await
            .expect_err("no such database");
        assert_eq!(err.code, ErrorKind::Validation, "{err:?}");
        assert!(err.message.contains("does not exist"), "{}", err.message);
        assert!(!dir.path().join(SETTINGS_FILE).exists());

        let saved = desk
            .save_team_database(&url, Some(Secret::new("team-password")))
            .await
            .expect("a reachable team database is saved");
        assert_eq!(saved.mode, DatabaseMode::Desk, "this window keeps its data");
        assert_eq!(saved.saved_url.as_deref(), Some(shown(&url).as_str()));
        if saved.environment_url.is_none() {
            assert!(saved.restart_needed, "{saved:?}");
        }
        let file = dir.path().join(SETTINGS_FILE);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("team-password"),
            "the password is not in the file"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let team = TeamDatabase::from_url(Some(&url)).unwrap();
        assert_eq!(
            secrets
                .get(&team.keychain_key(), SecretSlot::Credential)
                .unwrap()
                .map(|s| s.expose().to_string())
                .as_deref(),
            Some("team-password")
        );
        drop(desk);

        // The next start opens it (when the environment names none: it would win).
        if environment_url().is_none() {
            let chosen = TeamDatabase::for_window(dir.path()).expect("the saved one is chosen");
            assert_eq!(chosen.url, url);
            let app = open(dir.path(), Some(chosen), secrets.clone())
                .await
                .unwrap();
            let status = app.team_database_status().await.unwrap();
            assert_eq!(status.mode, DatabaseMode::Team, "{status:?}");
            assert_eq!(status.source, Some(TeamDatabaseSource::Settings));
            assert!(status.live, "{status:?}");
            assert_eq!(status.error, None);
            assert_eq!(status.location, shown(&url));
            assert!(!status.restart_needed);

            // Back to the desk's own data: the setting and the password go; a restart switches.
            let cleared = app.clear_team_database().await.unwrap();
            assert_eq!(cleared.mode, DatabaseMode::Team);
            assert_eq!(cleared.saved_url, None);
            assert!(cleared.restart_needed);
            assert!(!file.exists());
            assert!(secrets
                .get(&team.keychain_key(), SecretSlot::Credential)
                .unwrap()
                .is_none());
            assert!(TeamDatabase::for_window(dir.path()).is_none());
        }
    }

    #[tokio::test]
    async fn a_damaged_setting_is_said_and_can_be_cleared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SETTINGS_FILE), "not json").unwrap();
        let app = open(dir.path(), None, Arc::default()).await.unwrap();
        let status = app.team_database_status().await.unwrap();
        assert!(status.live);
        if status.environment_url.is_none() {
            let error = status.error.expect("the damaged file is said");
            assert!(error.message.contains("damaged"), "{}", error.message);
        }
        let cleared = app.clear_team_database().await.unwrap();
        assert_eq!(cleared.error, None);
        assert!(!dir.path().join(SETTINGS_FILE).exists());
    }
}
