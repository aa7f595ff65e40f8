//! Secrets on a server with no Secret Service: a credentials folder (`otactl --credentials-dir`, or
//! systemd's `$CREDENTIALS_DIRECTORY` from `LoadCredential=`), one file per secret, readable by its owner
//! only. The folder is provisioned by whoever runs the server and only read here: a cloud's session token
//! (issued at sign-in) is kept in memory for the life of the process. Secrets never come from the
//! database.
//!
//! File names: `account-<id>` holds the credential of account `<id>` (the ids `otactl accounts list`
//! shows, the same on every runner of a team database); `team-database` holds the team database's
//! password.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{ApiError, CoreError, ErrorKind};
use crate::secrets::{Secret, SecretSlot, SecretStore};

/// The file name that holds the team database's password.
pub const TEAM_DATABASE_FILE: &str = "team-database";

pub struct CredentialsDir {
    dir: PathBuf,
    sessions: Mutex<HashMap<String, Secret>>,
}

impl std::fmt::Debug for CredentialsDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsDir")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CredentialsDir {
    /// A folder that must exist.
    pub fn new(dir: &Path) -> Result<Self, ApiError> {
        if !dir.is_dir() {
            return Err(ApiError::validation(format!(
                "The credentials folder {} does not exist.",
                dir.display()
            ))
            .with_hint("Create it (mode 0700) with one file per account: account-<id>."));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            sessions: Mutex::default(),
        })
    }

    /// The file that holds the secret filed under `key`, if the key names one.
    fn file_for(&self, key: &str) -> Option<PathBuf> {
        if key.starts_with("team-database/") {
            return Some(self.dir.join(TEAM_DATABASE_FILE));
        }
        // `<store id>/account-<id>` (secrets::account_key).
        let account = key.rsplit('/').next()?;
        let id = account.strip_prefix("account-")?;
        id.parse::<i64>().ok()?;
        Some(self.dir.join(format!("account-{id}")))
    }

    fn read(&self, path: &Path) -> Result<Option<Secret>, CoreError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CoreError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        refuse_if_others_can_read(path)?;
        // Files written by `echo` end with a newline that is no part of the secret.
        let value = text.trim_end_matches(['\r', '\n']);
        Ok((!value.is_empty()).then(|| Secret::new(value)))
    }
}

#[cfg(unix)]
fn refuse_if_others_can_read(path: &Path) -> Result<(), CoreError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| CoreError::Io {
            path: path.display().to_string(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(ApiError::new(
            ErrorKind::Keychain,
            format!(
                "{} can be read by other users (mode {:o}); it is not used.",
                path.display(),
                mode & 0o777
            ),
        )
        .with_hint(format!("chmod 600 {}", path.display()))
        .into());
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_others_can_read(_: &Path) -> Result<(), CoreError> {
    Ok(())
}

impl SecretStore for CredentialsDir {
    fn set(&self, key: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError> {
        match slot {
            SecretSlot::Session => {
                if let Ok(mut sessions) = self.sessions.lock() {
                    sessions.insert(key.to_string(), secret.clone());
                }
                Ok(())
            }
            SecretSlot::Credential => {
                let file = self
                    .file_for(key)
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| self.dir.display().to_string());
                Err(ApiError::new(
                    ErrorKind::Keychain,
                    "The credentials folder is read-only here: credentials are provisioned by whoever runs the server.",
                )
                .with_hint(format!("Write the secret to {file} (mode 0600)."))
                .into())
            }
        }
    }

    fn get(&self, key: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError> {
        match slot {
            SecretSlot::Session => Ok(self.sessions.lock().ok().and_then(|s| s.get(key).cloned())),
            SecretSlot::Credential => match self.file_for(key) {
                Some(path) => self.read(&path),
                None => Ok(None),
            },
        }
    }

    fn delete(&self, key: &str, slot: SecretSlot) -> Result<(), CoreError> {
        if slot == SecretSlot::Session {
            if let Ok(mut sessions) = self.sessions.lock() {
                sessions.remove(key);
            }
        }
        Ok(())
    }
}

/// The Secret Service when there is one, else the credentials folder: reads try the keychain first and
/// fall back when it has no entry or cannot be reached; writes go to the keychain, or (sessions) to the
/// folder's memory when the keychain cannot be reached.
pub struct KeychainThenFolder<K: SecretStore> {
    pub keychain: K,
    pub folder: CredentialsDir,
}

impl<K: SecretStore> SecretStore for KeychainThenFolder<K> {
    fn set(&self, key: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError> {
        self.keychain
            .set(key, slot, secret)
            .or_else(|_| self.folder.set(key, slot, secret))
    }

    fn get(&self, key: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError> {
        match self.keychain.get(key, slot) {
            Ok(Some(secret)) => Ok(Some(secret)),
            Ok(None) | Err(_) => self.folder.get(key, slot),
        }
    }

    fn delete(&self, key: &str, slot: SecretSlot) -> Result<(), CoreError> {
        let folder = self.folder.delete(key, slot);
        self.keychain.delete(key, slot).or(folder)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::secrets::account_key;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn an_account_s_credential_is_read_from_its_file_and_sessions_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "account-7", "s3cret\n", 0o600);
        let folder = CredentialsDir::new(dir.path()).unwrap();
        let key = account_key("store-1", 7);
        let got = folder.get(&key, SecretSlot::Credential).unwrap().unwrap();
        assert_eq!(got.expose(), "s3cret");
        assert!(folder
            .get(&account_key("store-1", 8), SecretSlot::Credential)
            .unwrap()
            .is_none());
        folder
            .set(&key, SecretSlot::Session, &Secret::new("token"))
            .unwrap();
        assert_eq!(
            folder
                .get(&key, SecretSlot::Session)
                .unwrap()
                .unwrap()
                .expose(),
            "token"
        );
        assert!(
            folder
                .set(&key, SecretSlot::Credential, &Secret::new("x"))
                .is_err(),
            "the folder is provisioned, not written"
        );
        assert!(!dir.path().join("account-7.new").exists());
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "account-3", "s3cret", 0o644);
        let folder = CredentialsDir::new(dir.path()).unwrap();
        let err: ApiError = folder
            .get(&account_key("s", 3), SecretSlot::Credential)
            .unwrap_err()
            .into();
        assert_eq!(err.code, ErrorKind::Keychain);
        assert!(err.hint.unwrap_or_default().contains("chmod 600"));
    }

    #[test]
    fn the_team_database_password_has_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), TEAM_DATABASE_FILE, "pgpass", 0o400);
        let folder = CredentialsDir::new(dir.path()).unwrap();
        let got = folder
            .get(
                "team-database/postgres://ota@db:5432/ota",
                SecretSlot::Credential,
            )
            .unwrap()
            .unwrap();
        assert_eq!(got.expose(), "pgpass");
    }

    #[test]
    fn a_missing_folder_is_said_clearly() {
        let err = CredentialsDir::new(Path::new("/nonexistent/creds")).unwrap_err();
        assert_eq!(err.code, ErrorKind::Validation);
    }
}
