//! Logs go to `<data dir>/logs/ota-console.log` (0600, rolled over at 5 MiB, 4 older files kept) and stderr. Secrets cannot reach them: `ota_app::Secret`
//! formats as `<redacted>`, and nothing logs raw request headers or bodies.

use std::path::Path;
use std::sync::Mutex;

use ota_app::startup::{logfile, RotatingLog};
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(data_dir: &Path) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,hyper=warn,reqwest=warn,tao=warn,wry=warn"));
    let log_dir = ota_app::startup::log_dir(data_dir);
    // Private to the user and capped in size (it rolls over; see ota_app::startup::logfile).
    let file = ota_app::startup::ensure_private_dir(&log_dir)
        .and_then(|()| {
            RotatingLog::open(
                &log_dir.join("ota-console.log"),
                logfile::DEFAULT_MAX_BYTES,
                logfile::DEFAULT_KEEP,
            )
        })
        .map_err(|err| eprintln!("OTA Console cannot write its log file: {err}"))
        .ok();
    let stderr_layer = fmt::layer().with_writer(std::io::stderr);
    let file_layer = file.map(|f| fmt::layer().with_ansi(false).with_writer(Mutex::new(f)));
    // A second init (tests) is harmless.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr_layer)
        .with(file_layer)
        .try_init();
}
