//! OTA Console engine: domain model, SQLite store, keychain secrets, progress model and the services the
//! window and the CLI share. No Tauri here: this crate is tested on its own.

pub mod audit_export;
pub mod campaign;
pub mod cloud;
pub mod cohort;
pub mod console;
pub mod credentials_dir;
pub mod db;
pub mod error;
pub mod fleet_versions;
pub mod folder_lock;
pub mod hex;
pub mod jobs;
pub mod library;
pub mod logfile;
pub mod model;
pub mod net;
pub mod onenet;
pub mod paths;
pub mod private_files;
pub mod progress;
pub mod quectel;
pub mod secrets;
pub mod store;
pub mod webhooks;

pub use console::{Console, DataKind};
pub use error::{ApiError, CoreError, CoreResult, ErrorKind};
pub use model::*;
pub use secrets::{Keychain, Secret, SecretSlot, SecretStore};
pub use store::Store;
