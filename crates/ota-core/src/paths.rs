//! Where the console keeps its data.

use std::path::PathBuf;

/// Overrides the data folder (tests, scripts, portable installs).
pub const DATA_DIR_ENV: &str = "OTA_CONSOLE_DATA_DIR";

/// The data folder: `$OTA_CONSOLE_DATA_DIR`, else the platform's app-data folder
/// (`~/.local/share/ota-console`, `~/Library/Application Support/ota-console`, `%APPDATA%\ota-console`).
/// With neither (no home folder) it is an error: a shared temp folder would expose the fleet and the
/// audit log to every user of the machine.
pub fn data_dir() -> Result<PathBuf, crate::ApiError> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|dir| dir.join("ota-console"))
        .ok_or_else(|| {
            crate::ApiError::validation(
                "This user has no home folder to keep OTA Console's data in.",
            )
            .with_hint(format!(
                "Set {DATA_DIR_ENV} to a folder of your own (or pass --data-dir)."
            ))
        })
}

pub fn database_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("ota-console.sqlite3")
}

pub fn log_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("logs")
}
