//! Errors of the engine and the one error shape that crosses the IPC edge.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable error categories. The window and the CLI branch on these, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is wrong; fix it and try again.
    Validation,
    /// Credentials are missing, wrong or expired.
    Auth,
    /// The cloud (or the device) cannot be reached.
    Offline,
    /// The cloud asked us to slow down.
    RateLimited,
    /// A transient failure (5xx, timeout, malformed answer); the same call may succeed later.
    Retryable,
    /// The named thing does not exist.
    NotFound,
    /// The action conflicts with the current state (e.g. an update already running).
    Conflict,
    /// The device refused or failed the operation (battery, no update, install failure...).
    Device,
    /// The OS keychain is unavailable or refused access.
    Keychain,
    /// A bug or an unexpected local failure (database, file system).
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::Auth => "auth",
            ErrorKind::Offline => "offline",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Retryable => "retryable",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Device => "device",
            ErrorKind::Keychain => "keychain",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "validation" => ErrorKind::Validation,
            "auth" => ErrorKind::Auth,
            "offline" => ErrorKind::Offline,
            "rate_limited" => ErrorKind::RateLimited,
            "retryable" => ErrorKind::Retryable,
            "not_found" => ErrorKind::NotFound,
            "conflict" => ErrorKind::Conflict,
            "device" => ErrorKind::Device,
            "keychain" => ErrorKind::Keychain,
            "internal" => ErrorKind::Internal,
            _ => return None,
        })
    }

    /// Whether repeating the same call later may succeed without the user changing anything.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Offline | ErrorKind::RateLimited | ErrorKind::Retryable
        )
    }
}

/// A failure explained for a person: what happened, and what to do next.
///
/// Cloud clients turn vendor error codes into this; the catalogue text lives next to each client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    pub code: ErrorKind,
    /// One sentence a technician understands.
    pub message: String,
    /// The next step the user can take, when there is one.
    #[ts(optional = nullable)]
    #[serde(default)]
    pub hint: Option<String>,
    /// The vendor's own code (e.g. "-103", "errno 12"), shown beside the message for support.
    #[ts(optional = nullable)]
    #[serde(default)]
    pub vendor_code: Option<String>,
    /// Seconds the cloud asked us to wait before trying again (429 `Retry-After`).
    #[ts(optional = nullable)]
    #[serde(default)]
    pub retry_after_secs: Option<u32>,
}

impl ApiError {
    pub fn new(code: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
            vendor_code: None,
            retry_after_secs: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_vendor_code(mut self, code: impl Into<String>) -> Self {
        self.vendor_code = Some(code.into());
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// "message (code) — hint", the single-line form used by the CLI and logs.
    pub fn display_line(&self) -> String {
        let mut line = self.message.clone();
        if let Some(code) = &self.vendor_code {
            line.push_str(&format!(" [{code}]"));
        }
        if let Some(hint) = &self.hint {
            line.push_str(&format!(" — {hint}"));
        }
        line
    }
}

/// Errors of the engine itself.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("database migration {version} failed: {source}")]
    Migration {
        version: u32,
        #[source]
        source: rusqlite::Error,
    },
    /// The team database (PostgreSQL) refused a statement or could not be reached.
    #[error("team database: {message}")]
    TeamDatabase { message: String, unreachable: bool },
    /// A query that must answer one row answered none.
    #[error("database error: the query answered no row")]
    NoRows,
    /// A column held something the store did not expect (a schema drift or a bug).
    #[error("database error: column {index}: {message}")]
    Column { index: usize, message: String },
    #[error("the database was written by a newer OTA Console (schema {found}, this build knows {known})")]
    SchemaTooNew { found: u32, known: u32 },
    #[error("file system error at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("keychain error: {0}")]
    Keychain(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Api(api) => api,
            CoreError::Keychain(msg) => ApiError::new(
                ErrorKind::Keychain,
                format!("The system keychain could not be used: {msg}"),
            )
            .with_hint("Unlock your keychain (on Linux: the Secret Service, e.g. GNOME Keyring) and try again."),
            CoreError::TeamDatabase {
                message,
                unreachable: true,
            } => ApiError::new(
                ErrorKind::Offline,
                format!("The team database cannot be reached: {message}"),
            )
            .with_hint("Check that PostgreSQL is running and reachable; campaigns resume once it is back."),
            CoreError::SchemaTooNew { .. } => ApiError::internal(err.to_string())
                .with_hint("Install the newer OTA Console release that wrote this data."),
            other => ApiError::internal(other.to_string()),
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    /// The team database could not be reached (as opposed to refusing a statement).
    pub fn is_unreachable_database(&self) -> bool {
        matches!(
            self,
            CoreError::TeamDatabase {
                unreachable: true,
                ..
            }
        )
    }
}

/// `query_row(…).optional()`: no row is `None`, not an error.
pub trait OptionalRow<T> {
    fn optional(self) -> CoreResult<Option<T>>;
}

impl<T> OptionalRow<T> for CoreResult<T> {
    fn optional(self) -> CoreResult<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(CoreError::NoRows) => Ok(None),
            Err(err) => Err(err),
        }
    }
}
