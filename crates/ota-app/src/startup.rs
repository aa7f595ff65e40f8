//! What a shell needs before [`crate::App::open`]: where the data folder is, its lock (one window per
//! folder), and the private, size-capped log file.

pub use ota_core::folder_lock::{self, FolderLockError, WindowLock};
pub use ota_core::logfile::{self, RotatingLog};
pub use ota_core::paths::{self, data_dir, log_dir, DATA_DIR_ENV};
pub use ota_core::private_files::ensure_private_dir;
