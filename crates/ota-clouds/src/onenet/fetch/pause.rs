//! The window's pause switch for a running fetch.

use tokio::sync::watch;

/// Lets the window pause a running fetch.
#[derive(Debug, Clone)]
pub struct PauseSwitch(watch::Sender<bool>);

#[derive(Debug, Clone)]
pub struct PauseSignal(watch::Receiver<bool>);

pub fn pause_switch() -> (PauseSwitch, PauseSignal) {
    let (tx, rx) = watch::channel(false);
    (PauseSwitch(tx), PauseSignal(rx))
}

impl PauseSwitch {
    pub fn pause(&self) {
        let _ = self.0.send(true);
    }
}

impl PauseSignal {
    /// Never pauses.
    pub fn never() -> Self {
        pause_switch().1
    }

    pub(super) fn is_paused(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the switch is flipped.
    pub async fn wait_paused(&mut self) {
        if self.0.wait_for(|p| *p).await.is_err() {
            // The switch is gone: nobody can pause any more.
            std::future::pending::<()>().await;
        }
    }
}
