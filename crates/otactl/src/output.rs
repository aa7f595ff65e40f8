//! How otactl prints: JSON on stdout when asked, errors on stderr with their code and next step, and
//! an exit code per error kind (the table in the README) so scripts branch on it, never on text.

use std::process::ExitCode;

use ota_app::{ApiError, ErrorKind};

/// Exit codes, one per kind of outcome. Keep in step with the README's table.
pub mod exit {
    /// A failure of another kind: the device refused, a conflict, not found, a local failure.
    pub const OTHER: u8 = 1;
    /// The input is wrong (also clap's code for a usage error).
    pub const VALIDATION: u8 = 2;
    /// Partly done: some clouds could not be reached and cached data was shown, or a campaign ended
    /// without completing.
    pub const PARTIAL: u8 = 3;
    /// The cloud refused the credentials.
    pub const AUTH: u8 = 4;
    /// The cloud could not be reached, or failed for now (timeouts, 5xx, unreadable answers).
    pub const UNREACHABLE: u8 = 5;
    /// The cloud asked to slow down (HTTP 429).
    pub const RATE_LIMITED: u8 = 6;
}

pub fn exit_code_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Validation => exit::VALIDATION,
        ErrorKind::Auth => exit::AUTH,
        ErrorKind::Offline | ErrorKind::Retryable => exit::UNREACHABLE,
        ErrorKind::RateLimited => exit::RATE_LIMITED,
        ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::Device
        | ErrorKind::Keychain
        | ErrorKind::Internal => exit::OTHER,
    }
}

pub fn partial() -> ExitCode {
    ExitCode::from(exit::PARTIAL)
}

pub fn print_error(err: &ApiError) {
    eprintln!("error: {}", err.display_line());
}

/// Reports a failed command: the line on stderr always; with `--json` also `{"error": {...}}` on stdout,
/// the same `{code, message, hint, vendorCode, retryAfterSecs}` the window receives. Returns the exit code.
pub fn fail(err: &ApiError, json: bool) -> ExitCode {
    print_error(err);
    if json {
        match serde_json::to_string(&serde_json::json!({ "error": err })) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: cannot encode the error as JSON: {e}"),
        }
    }
    ExitCode::from(exit_code_for(err.code))
}

pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), ApiError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::internal(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// `value` as JSON with `--json`, else as `text` prints it.
pub fn print_as<T: serde::Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T),
) -> Result<(), ApiError> {
    if json {
        print_json(value)
    } else {
        text(value);
        Ok(())
    }
}

pub fn print_json_line<T: serde::Serialize>(value: &T) -> Result<(), ApiError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ApiError::internal(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
