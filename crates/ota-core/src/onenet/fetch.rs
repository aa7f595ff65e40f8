//! What a caller gives a OneNET package fetch ([`crate::cloud::OnenetDeviceApi::fetch_package`]): its
//! options and the window's pause switch. How the fetch runs is `ota-clouds::onenet::fetch`.

use std::time::Duration;

use tokio::sync::watch;

/// How a fetch behaves; the defaults suit a laptop on a field network.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Bytes asked for per request; also the step in which the length on disk is recorded for a
    /// resume (a crash loses at most two chunks, see `ota_clouds::onenet::fetch`).
    pub chunk_size: u64,
    /// Attempts after a dropped connection before giving up (the partial file stays). None: the
    /// task's `retry`, or 3 when the task says 0. Never more than the client's cap on attempts in a row
    /// (`ota_clouds::retry::MAX_ATTEMPTS` − 1).
    pub max_retries: Option<u32>,
    /// The shortest wait between attempts; the task's `interval` applies when longer. The client caps
    /// every wait, and the waits of one run of failures (`ota_clouds::retry::MAX_SINGLE_WAIT`,
    /// `MAX_TOTAL_WAIT`).
    pub min_retry_wait: Duration,
    /// Time for one chunk's request, body included.
    pub chunk_timeout: Duration,
    /// Report the download's result (101, or 107 when the MD5 does not match) to OneNET at the end.
    pub report: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            chunk_size: 8 * 1024 * 1024,
            max_retries: None,
            min_retry_wait: Duration::from_secs(1),
            chunk_timeout: Duration::from_secs(180),
            report: true,
        }
    }
}

/// Lets the window pause a running fetch.
#[derive(Debug, Clone)]
pub struct PauseSwitch(watch::Sender<bool>);

/// What a running fetch watches to know it should pause.
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

    /// Whether the switch was flipped.
    pub fn is_paused(&self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_flipped_switch_pauses_every_copy_of_its_signal() {
        let (switch, signal) = pause_switch();
        let mut waiting = signal.clone();
        assert!(!signal.is_paused());
        switch.pause();
        assert!(signal.is_paused());
        tokio::time::timeout(Duration::from_secs(5), waiting.wait_paused())
            .await
            .expect("the signal saw the pause");
        assert!(!PauseSignal::never().is_paused());
    }
}
