//! The writing side of a fetch, on three threads of its own so the network, the MD5, the disk and the
//! fsyncs all overlap: the hasher (MD5 only: it is the slowest step, so nothing else runs on its
//! thread), the file thread (appends to `<out>.part`) and the syncer (makes the appended bytes durable
//! and records their length in `<out>.part.json`).
//!
//! Durability policy. Bytes are appended to `.part` as they arrive. The end of each complete chunk is
//! *marked*: the syncer `fdatasync`s `.part` up to the mark and only then records the mark's offset in
//! `.part.json` (itself written whole, fsynced and renamed into place), so the record never claims a
//! byte that is not durably in `.part`. Marks are made in the background: the chunk loop waits for a
//! chunk's record only once the next chunk is in (one chunk of slack), and for an exact record at a
//! pause, a cut or an error. When the last chunk is in, the whole file is `fsync`ed before
//! its MD5 decides its fate. A crash (power loss) therefore loses at most the bytes after the last
//! record — under two chunks — which the next fetch cuts off and downloads again; a file under its
//! real name always holds durable, verified bytes.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, PoisonError};

use bytes::Bytes;
use md5::Digest;
use ota_core::ApiError;
use tokio::sync::{mpsc, oneshot};

use super::partial::{local_error, Partial, Recorder};

/// Pieces of the body queued for each of the hasher and the file thread (both queues share the same
/// bytes). Hyper hands over at most its read buffer (about 400 KiB) at a time, so a fetch holds some
/// 10 MiB at most whatever the package's size, while the network can run ahead of the MD5 across the
/// gap between two requests, a record still being made, or a moment the hasher is not scheduled on a
/// busy machine (16 pieces measured slower under load; 32 brought the bench's memory growth near its
/// 32 MiB bound).
const QUEUED_PIECES: usize = 24;

/// What a mark resolves to: the offset now durable and recorded, or why it could not be.
type MarkAnswer = oneshot::Sender<Result<u64, ApiError>>;

enum FileMsg {
    Data(Bytes),
    /// Everything before this is to be made durable and recorded.
    Mark(MarkAnswer),
}

/// A mark as the syncer gets it: sync up to this offset, record it, then answer.
struct SyncMark(u64, MarkAnswer);

/// A mark handed to the syncer: resolves once its offset is durable and recorded.
pub(super) struct Recording(oneshot::Receiver<Result<u64, ApiError>>);

impl Recording {
    pub(super) async fn recorded(self) -> Result<u64, ApiError> {
        self.0.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> ApiError {
    ApiError::internal("the download's writer stopped")
}

/// A named thread (the name shows in profilers and thread lists).
fn spawn<T: Send + 'static>(
    name: &str,
    run: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>, ApiError> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(run)
        .map_err(|e| {
            ApiError::internal(format!("could not start the download's {name} thread: {e}"))
        })
}

/// Whether the syncer may still record: closed once the writer is gone, so a dropped fetch (a closed
/// app) leaves exactly the offset the next fetch resumes from, never one recorded a moment later.
#[derive(Clone, Default)]
struct RecordGate(Arc<Mutex<bool>>);

impl RecordGate {
    /// Runs `record` unless the gate is closed; closing waits for a record under way.
    fn record_if_open(
        &self,
        record: impl FnOnce() -> Result<(), ApiError>,
    ) -> Option<Result<(), ApiError>> {
        let closed = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (!*closed).then(record)
    }

    fn close(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
    }
}

/// Closes the gate when the writer goes away, however it goes.
struct GateCloser(RecordGate);

impl Drop for GateCloser {
    fn drop(&mut self) {
        // At most one `.part.json` replacement is waited for.
        self.0.close();
    }
}

/// The writing side: hands the body to the hasher and the file thread, marks chunk ends, and at the end
/// gives back the file (still locked), its MD5 and its length.
pub(super) struct Writer {
    to_file: mpsc::Sender<FileMsg>,
    to_hasher: mpsc::Sender<Bytes>,
    /// Set when a write or a sync failed: the network stops, and the next mark says why.
    failed: Arc<AtomicBool>,
    file_done: oneshot::Receiver<Result<(File, u64), ApiError>>,
    hash_done: oneshot::Receiver<[u8; 16]>,
    _gate: GateCloser,
}

impl Writer {
    /// Starts the three threads on `partial`, whose bytes the hasher has already taken in.
    pub(super) fn start(
        partial: Partial,
        part_path: PathBuf,
        recorder: Recorder,
    ) -> Result<Self, ApiError> {
        let Partial {
            file,
            offset,
            hasher,
        } = partial;
        let file = Arc::new(file);
        let failed = Arc::new(AtomicBool::new(false));
        let gate = RecordGate::default();
        let (to_syncer, syncer_rx) = std_mpsc::channel();
        let syncer = Syncer {
            file: file.clone(),
            synced: offset,
            recorded: offset,
            recorder,
            gate: gate.clone(),
            part_path: part_path.clone(),
            failed: failed.clone(),
            failure: None,
        };
        let syncer = spawn("ota-fetch-sync", move || syncer.run(syncer_rx))?;
        let (to_hasher, hasher_rx) = mpsc::channel::<Bytes>(QUEUED_PIECES);
        let (hash_tx, hash_done) = oneshot::channel();
        spawn("ota-fetch-md5", move || {
            let _ = hash_tx.send(hash(hasher, hasher_rx));
        })?;
        let (to_file, file_rx) = mpsc::channel::<FileMsg>(QUEUED_PIECES);
        let (file_tx, file_done) = oneshot::channel();
        let file_thread = FileThread {
            file,
            offset,
            part_path,
            failed: failed.clone(),
            to_syncer,
            syncer,
        };
        spawn("ota-fetch-write", move || {
            let _ = file_tx.send(file_thread.run(file_rx));
        })?;
        Ok(Self {
            to_file,
            to_hasher,
            failed,
            file_done,
            hash_done,
            _gate: GateCloser(gate),
        })
    }

    /// Queues `bytes` for the file and the MD5 (waiting while either is a full queue behind).
    pub(super) async fn write(&self, bytes: Bytes) -> std::io::Result<()> {
        let gone = || std::io::Error::other("the writer stopped");
        if self.failed.load(Ordering::Acquire) {
            return Err(gone());
        }
        self.to_file
            .send(FileMsg::Data(bytes.clone()))
            .await
            .map_err(|_| gone())?;
        self.to_hasher.send(bytes).await.map_err(|_| gone())
    }

    /// Marks the end of what was written so far: it becomes durable and recorded in the background.
    pub(super) async fn mark(&self) -> Result<Recording, ApiError> {
        let (answer, recording) = oneshot::channel();
        self.to_file
            .send(FileMsg::Mark(answer))
            .await
            .map_err(|_| stopped())?;
        Ok(Recording(recording))
    }

    /// Makes everything written so far durable and recorded; the offset it reached.
    pub(super) async fn checkpoint(&self) -> Result<u64, ApiError> {
        self.mark().await?.recorded().await
    }

    /// Stops the threads once they have taken in everything queued: the file (synced, still locked),
    /// the MD5 of all its bytes and its length.
    pub(super) async fn finish(self) -> Result<(File, [u8; 16], u64), ApiError> {
        let Self {
            to_file,
            to_hasher,
            file_done,
            hash_done,
            ..
        } = self;
        drop((to_file, to_hasher));
        let (file, length) = file_done.await.unwrap_or_else(|_| Err(stopped()))?;
        let digest = hash_done.await.map_err(|_| stopped())?;
        Ok((file, digest, length))
    }
}

/// The hasher thread: the MD5 of everything it is given, after what the partial file already held.
fn hash(mut hasher: md5::Md5, mut pieces: mpsc::Receiver<Bytes>) -> [u8; 16] {
    while let Some(piece) = pieces.blocking_recv() {
        hasher.update(&piece);
    }
    hasher.finalize().into()
}

/// The file thread: appends, and passes marks on to the syncer after the bytes before them.
struct FileThread {
    /// Shared with the syncer, which only syncs it; given back whole once the syncer has stopped.
    file: Arc<File>,
    offset: u64,
    part_path: PathBuf,
    failed: Arc<AtomicBool>,
    to_syncer: std_mpsc::Sender<SyncMark>,
    syncer: std::thread::JoinHandle<Option<ApiError>>,
}

impl FileThread {
    /// Runs until the writer lets go: the file, synced whole, and its length.
    fn run(mut self, mut messages: mpsc::Receiver<FileMsg>) -> Result<(File, u64), ApiError> {
        let mut failure: Option<ApiError> = None;
        while let Some(message) = messages.blocking_recv() {
            match message {
                // After a failure the rest is drained unwritten, so the network never waits on it.
                FileMsg::Data(_) if failure.is_some() => {}
                FileMsg::Data(bytes) => match (&*self.file).write_all(&bytes) {
                    Ok(()) => self.offset += bytes.len() as u64,
                    Err(e) => {
                        failure = Some(local_error("write", &e, &self.part_path));
                        self.failed.store(true, Ordering::Release);
                    }
                },
                FileMsg::Mark(answer) => match &failure {
                    Some(err) => {
                        let _ = answer.send(Err(err.clone()));
                    }
                    None => {
                        if let Err(std_mpsc::SendError(SyncMark(_, answer))) =
                            self.to_syncer.send(SyncMark(self.offset, answer))
                        {
                            let _ = answer.send(Err(stopped()));
                        }
                    }
                },
            }
        }
        let Self {
            file,
            offset,
            part_path,
            to_syncer,
            syncer,
            ..
        } = self;
        // The whole file is synced while the syncer finishes a record it may have begun.
        drop(to_syncer);
        let synced = match failure {
            Some(_) => Ok(()),
            None => file.sync_all(),
        };
        let sync_failure = syncer.join().map_err(|_| stopped())?;
        if let Some(err) = failure.or(sync_failure) {
            return Err(err);
        }
        synced.map_err(|e| local_error("write", &e, &part_path))?;
        let file = Arc::try_unwrap(file).map_err(|_| stopped())?;
        Ok((file, offset))
    }
}

/// The syncer thread: `fdatasync`s what was appended, then records marks in `.part.json`.
struct Syncer {
    file: Arc<File>,
    /// Bytes known durable.
    synced: u64,
    /// The offset `.part.json` holds.
    recorded: u64,
    recorder: Recorder,
    gate: RecordGate,
    part_path: PathBuf,
    failed: Arc<AtomicBool>,
    failure: Option<ApiError>,
}

impl Syncer {
    /// Runs until the file thread lets go; the failure that stopped it, if any.
    fn run(mut self, marks: std_mpsc::Receiver<SyncMark>) -> Option<ApiError> {
        while let Ok(first) = marks.recv() {
            // Marks that queued up while the last record was made are served by one sync and one
            // record: the latest.
            let batch: Vec<SyncMark> = std::iter::once(first).chain(marks.try_iter()).collect();
            let latest = batch.iter().map(|SyncMark(offset, _)| *offset).max();
            if let Some(offset) = latest {
                self.sync_up_to(offset);
                self.record(offset);
            }
            for SyncMark(offset, answer) in batch {
                let _ = answer.send(match &self.failure {
                    Some(err) => Err(err.clone()),
                    None => Ok(offset),
                });
            }
        }
        self.failure
    }

    /// Every byte up to `written` was appended before it was sent here, so one sync covers them.
    fn sync_up_to(&mut self, written: u64) {
        if self.failure.is_some() || written <= self.synced {
            return;
        }
        match self.file.sync_data() {
            Ok(()) => self.synced = written,
            Err(e) => self.fail(local_error("write", &e, &self.part_path)),
        }
    }

    /// Records `offset`, which is never past what is durable.
    fn record(&mut self, offset: u64) {
        if self.failure.is_some() || offset <= self.recorded {
            return;
        }
        // A mark was appended before it was sent, so the sync before this covered it; the min keeps
        // the record honest even if that ever changed.
        let offset = offset.min(self.synced);
        let recorder = &mut self.recorder;
        match self.gate.record_if_open(|| recorder.record(offset)) {
            Some(Ok(())) => self.recorded = offset,
            Some(Err(err)) => self.fail(err),
            // The fetch was dropped: its offset stays as it left it.
            None => self.fail(stopped()),
        }
    }

    fn fail(&mut self, err: ApiError) {
        self.failed.store(true, Ordering::Release);
        self.failure = Some(err);
    }
}

#[cfg(test)]
mod tests {
    use super::super::partial::{open_partial, partial_paths, saved_offset};
    use super::*;
    use ota_core::onenet::{OnenetPackageKind, OnenetTask, OnenetTaskType};
    use ota_core::ErrorKind;

    fn task_for(bytes: &[u8]) -> OnenetTask {
        OnenetTask {
            dev_id: "1".into(),
            target_version: "V2".into(),
            token: "ota_a".into(),
            size: bytes.len() as u64,
            md5: ota_core::hex::lower_hex(&md5::Md5::digest(bytes)),
            min_signal: None,
            min_power: None,
            retry: None,
            interval_secs: None,
            package: OnenetPackageKind::Full,
            task_type: OnenetTaskType::Application,
        }
    }

    #[tokio::test]
    async fn a_checkpoint_is_on_record_and_the_md5_covers_every_byte() {
        let task = task_for(b"0123456789");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fw.bin");
        let (part, meta) = partial_paths(&out);
        let partial = open_partial(&out, &task).unwrap();
        let writer = Writer::start(partial, part.clone(), Recorder::new(meta, &task)).unwrap();
        writer.write(Bytes::from_static(b"01234")).await.unwrap();
        assert_eq!(writer.checkpoint().await.unwrap(), 5);
        assert_eq!(saved_offset(&out, &task), 5, "a resume starts there");
        writer.write(Bytes::from_static(b"56789")).await.unwrap();
        let (_file, digest, length) = writer.finish().await.unwrap();
        assert_eq!(length, 10);
        assert_eq!(ota_core::hex::lower_hex(&digest), task.md5);
        assert_eq!(std::fs::read(&part).unwrap(), b"0123456789");
    }

    #[tokio::test]
    async fn a_disk_that_refuses_the_bytes_stops_the_fetch_in_words_naming_the_file() {
        let task = task_for(b"abc");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fw.bin");
        let (part, meta) = partial_paths(&out);
        std::fs::write(&part, b"").unwrap();
        // A handle that cannot write stands in for a disk that refuses the bytes.
        let partial = Partial {
            file: File::open(&part).unwrap(),
            offset: 0,
            hasher: md5::Md5::new(),
        };
        let writer = Writer::start(partial, part.clone(), Recorder::new(meta, &task)).unwrap();
        writer.write(Bytes::from_static(b"abc")).await.unwrap();
        let err = writer.checkpoint().await.unwrap_err();
        assert_eq!(err.code, ErrorKind::Internal);
        assert!(
            err.message.contains(&part.display().to_string()),
            "{}",
            err.message
        );
        assert!(
            writer.write(Bytes::from_static(b"d")).await.is_err(),
            "the network stops"
        );
        assert_eq!(saved_offset(&out, &task), 0, "nothing was recorded");
        assert!(writer.finish().await.is_err());
    }
}
