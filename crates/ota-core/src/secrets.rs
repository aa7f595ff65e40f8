//! Secrets: passwords, access keys and session tokens, kept only in the OS keychain.
//!
//! `Secret` never prints its value (`Debug`/`Display` are redacted) and is not `Serialize`, so it cannot
//! reach SQLite, a log line or an IPC payload by accident.

use crate::error::CoreError;

/// The keychain service name every entry is filed under.
pub const KEYCHAIN_SERVICE: &str = "ota-console";

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it (a request header or body).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The keychain key of an account's secrets: this database's id and the account's id, never its display
/// name, so two data folders with an account of the same name keep apart, and renaming cannot orphan it.
pub fn account_key(instance_id: &str, account_id: i64) -> String {
    format!("{instance_id}/account-{account_id}")
}

/// The keychain key of a webhook's signing secret (slot [`SecretSlot::Credential`]): this database's id and
/// the webhook's id, like [`account_key`].
pub fn webhook_key(instance_id: &str, webhook_id: i64) -> String {
    format!("{instance_id}/webhook-{webhook_id}")
}

/// Which secret of an account an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSlot {
    /// What the user typed: password, access key or token.
    Credential,
    /// A session token the cloud issued at sign-in, kept so a restart need not sign in again.
    Session,
}

impl SecretSlot {
    fn suffix(self) -> &'static str {
        match self {
            SecretSlot::Credential => "credential",
            SecretSlot::Session => "session",
        }
    }
}

/// Storage for secrets: the OS keychain ([`Keychain`]); on a server without one, a read-only credentials
/// folder the operator provisions (`crate::credentials_dir`). Never the database.
pub trait SecretStore: Send + Sync {
    fn set(&self, key: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError>;
    fn get(&self, key: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError>;
    fn delete(&self, key: &str, slot: SecretSlot) -> Result<(), CoreError>;
}

/// The OS keychain: Windows Credential Manager, macOS Keychain, Linux Secret Service.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new(KEYCHAIN_SERVICE)
    }
}

impl Keychain {
    /// `service` lets tests file their entries apart from a user's real ones.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, account_name: &str, slot: SecretSlot) -> Result<keyring::Entry, CoreError> {
        let user = format!("{account_name}#{}", slot.suffix());
        keyring::Entry::new(&self.service, &user).map_err(keychain_error)
    }
}

fn keychain_error(err: keyring::Error) -> CoreError {
    // keyring's messages never include the secret itself.
    CoreError::Keychain(err.to_string())
}

impl SecretStore for Keychain {
    fn set(&self, account_name: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError> {
        self.entry(account_name, slot)?
            .set_password(secret.expose())
            .map_err(keychain_error)
    }

    fn get(&self, account_name: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError> {
        match self.entry(account_name, slot)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(keychain_error(err)),
        }
    }

    fn delete(&self, account_name: &str, slot: SecretSlot) -> Result<(), CoreError> {
        match self.entry(account_name, slot)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(keychain_error(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(!format!("{secret}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2-very-secret");
    }
}
