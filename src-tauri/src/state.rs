//! What the shell holds while running: the engine, and the sandbox simulator when one runs in-process.

use std::path::PathBuf;
use std::sync::Arc;

use ota_core::Console;
use tokio::sync::watch;

pub struct AppState {
    pub console: Arc<Console>,
    pub data_dir: PathBuf,
    /// Flips to true once sandbox accounts (if any) are attached, so the first refresh does not race them.
    pub ready: watch::Receiver<bool>,
    pub sandbox: Arc<std::sync::Mutex<SandboxStatus>>,
}

#[derive(Debug, Clone, Default)]
pub struct SandboxStatus {
    pub active: bool,
    pub sim_url: Option<String>,
}

impl AppState {
    /// Waits (bounded) until start-up has attached the sandbox accounts.
    pub async fn wait_ready(&self) {
        let mut ready = self.ready.clone();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(15), ready.wait_for(|r| *r)).await;
    }
}
