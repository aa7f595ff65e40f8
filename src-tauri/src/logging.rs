//! Logs go to `<data dir>/logs/ota-console.log` and stderr. Secrets cannot reach them: `ota_core::Secret`
//! formats as `<redacted>`, and nothing logs raw request headers or bodies.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(data_dir: &Path) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,hyper=warn,reqwest=warn,tao=warn,wry=warn"));
    let log_dir = ota_core::paths::log_dir(data_dir);
    let file = std::fs::create_dir_all(&log_dir).ok().and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_dir.join("ota-console.log"))
            .ok()
    });
    let stderr_layer = fmt::layer().with_writer(std::io::stderr);
    let file_layer = file.map(|f| fmt::layer().with_ansi(false).with_writer(Mutex::new(f)));
    // A second init (tests) is harmless.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr_layer)
        .with(file_layer)
        .try_init();
}
