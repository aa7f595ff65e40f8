//! The writer thread: appends and hashes what the chunks bring, and makes it durable on request, so the
//! network, the disk and the MD5 overlap.

use std::fs::File;
use std::io::{self, Write};

use bytes::Bytes;
use md5::Digest;
use tokio::sync::{mpsc, oneshot};

use super::partial::Partial;

enum WriteMsg {
    Data(Bytes),
    /// Flush to disk and answer with the bytes written so far.
    Checkpoint(oneshot::Sender<io::Result<u64>>),
}

/// The writer thread: appends, hashes, and makes chunks durable on request.
pub(super) struct Writer {
    tx: mpsc::Sender<WriteMsg>,
    done: oneshot::Receiver<io::Result<(File, [u8; 16], u64)>>,
}

impl Writer {
    pub(super) fn start(partial: Partial) -> Self {
        let (tx, mut rx) = mpsc::channel::<WriteMsg>(16);
        let (done_tx, done) = oneshot::channel();
        std::thread::spawn(move || {
            let Partial {
                mut file,
                mut offset,
                mut hasher,
            } = partial;
            let mut failure: Option<io::Error> = None;
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    WriteMsg::Data(bytes) => {
                        if failure.is_some() {
                            continue;
                        }
                        match file.write_all(&bytes) {
                            Ok(()) => {
                                hasher.update(&bytes);
                                offset += bytes.len() as u64;
                            }
                            Err(e) => failure = Some(e),
                        }
                    }
                    WriteMsg::Checkpoint(answer) => {
                        let result = match &failure {
                            Some(e) => Err(io::Error::new(e.kind(), e.to_string())),
                            None => file.sync_data().map(|()| offset),
                        };
                        let _ = answer.send(result);
                    }
                }
            }
            let result = match failure {
                Some(e) => Err(e),
                None => file
                    .sync_all()
                    .map(|()| (file, hasher.finalize().into(), offset)),
            };
            let _ = done_tx.send(result);
        });
        Self { tx, done }
    }

    pub(super) async fn write(&self, bytes: Bytes) -> io::Result<()> {
        self.tx
            .send(WriteMsg::Data(bytes))
            .await
            .map_err(|_| io::Error::other("the writer stopped"))
    }

    pub(super) async fn checkpoint(&self) -> io::Result<u64> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(WriteMsg::Checkpoint(tx))
            .await
            .map_err(|_| io::Error::other("the writer stopped"))?;
        rx.await
            .map_err(|_| io::Error::other("the writer stopped"))?
    }

    pub(super) async fn finish(self) -> io::Result<(File, [u8; 16], u64)> {
        drop(self.tx);
        self.done
            .await
            .map_err(|_| io::Error::other("the writer stopped"))?
    }
}
