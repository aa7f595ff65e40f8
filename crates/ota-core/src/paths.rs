//! Where the console keeps its data.

use std::path::PathBuf;

/// Overrides the data folder (tests, scripts, portable installs).
pub const DATA_DIR_ENV: &str = "OTA_CONSOLE_DATA_DIR";

/// The data folder: `$OTA_CONSOLE_DATA_DIR`, else the platform's app-data folder
/// (`~/.local/share/ota-console`, `~/Library/Application Support/ota-console`, `%APPDATA%\ota-console`).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("ota-console")
}

pub fn database_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("ota-console.sqlite3")
}

pub fn log_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("logs")
}
