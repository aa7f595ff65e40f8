//! "Data changed" notices, batched: one notice per short window naming every kind that changed, so a
//! window refetches once however many rows a refresh or a campaign wrote.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::{App, DataKind};

/// How long notices are collected before one batch goes out.
pub const BATCH_WINDOW: Duration = Duration::from_millis(250);

/// The kinds of data that changed within one batch window.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct DataChanged {
    pub kinds: Vec<DataKind>,
}

impl App {
    /// Batches of change notices, for as long as the receiver is kept.
    pub fn data_changes(&self) -> mpsc::Receiver<DataChanged> {
        let mut changes = self.console.subscribe();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let first = match changes.recv().await {
                    Ok(kind) => kind,
                    // Notices were dropped: say the fleet changed, the broadest refetch.
                    Err(RecvError::Lagged(_)) => DataKind::Devices,
                    Err(RecvError::Closed) => return,
                };
                let mut kinds = BTreeSet::from([first]);
                let window = tokio::time::sleep(BATCH_WINDOW);
                tokio::pin!(window);
                loop {
                    tokio::select! {
                        _ = &mut window => break,
                        next = changes.recv() => match next {
                            Ok(kind) => { kinds.insert(kind); }
                            Err(RecvError::Lagged(_)) => {}
                            Err(RecvError::Closed) => break,
                        }
                    }
                }
                let batch = DataChanged {
                    kinds: kinds.into_iter().collect(),
                };
                if tx.send(batch).await.is_err() {
                    return;
                }
            }
        });
        rx
    }
}
