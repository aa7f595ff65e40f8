//! A OneNET package fetched the way a careful device would: token check, then ranged chunks written to
//! `<out>.part` whose confirmed length is persisted in `<out>.part.json` after every chunk, so a cut
//! connection, a pause or a closed app resumes where it stopped; the MD5 is verified before the file
//! takes its real name, and the result (101, or 205 on a mismatch) is reported to OneNET.
//!
//! Writing and hashing run on a thread of their own, so the network, the disk and the MD5 overlap.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use md5::{Digest, Md5};
use ota_core::onenet::{
    OnenetDownloadPhase, OnenetDownloadProgress, OnenetFetchOutcome, OnenetReportAnswer, OnenetTask,
};
use ota_core::{ApiError, ErrorKind};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use super::ota::token_path;
use super::results::{self, DOWNLOADED, MD5_MISMATCH};
use super::OnenetClient;
use crate::http;

/// How a fetch behaves; the defaults suit a laptop on a field network.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Bytes asked for per request.
    pub chunk_size: u64,
    /// Attempts after a dropped connection before giving up (the partial file stays). None: the
    /// task's `retry`, or 3 when the task says 0.
    pub max_retries: Option<u32>,
    /// The shortest wait between attempts; the task's `interval` applies when longer.
    pub min_retry_wait: Duration,
    /// Time for one chunk's request, body included.
    pub chunk_timeout: Duration,
    /// Report 101 / 205 to OneNET at the end.
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

pub use ota_core::onenet::OnenetFetchEnd as FetchEnd;

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

    fn is_paused(&self) -> bool {
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

/// `<out>.part` and `<out>.part.json`.
pub fn partial_paths(out: &Path) -> (PathBuf, PathBuf) {
    let mut part = out.as_os_str().to_owned();
    part.push(".part");
    let mut meta = part.clone();
    meta.push(".json");
    (PathBuf::from(part), PathBuf::from(meta))
}

/// What `<out>.part.json` records: which package the partial file belongs to and how much of it is
/// known to be on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PartialMeta {
    dev_id: String,
    target_version: String,
    md5: String,
    size: u64,
    offset: u64,
}

impl PartialMeta {
    fn for_task(task: &OnenetTask, offset: u64) -> Self {
        Self {
            dev_id: task.dev_id.clone(),
            target_version: task.target_version.clone(),
            md5: task.md5.clone(),
            size: task.size,
            offset,
        }
    }

    fn same_package(&self, task: &OnenetTask) -> bool {
        self.dev_id == task.dev_id && self.md5 == task.md5 && self.size == task.size
    }
}

/// Bytes already saved for this task (0 when none, or when they belong to another package).
pub fn saved_offset(out: &Path, task: &OnenetTask) -> u64 {
    let (part, meta) = partial_paths(out);
    let Some(meta) = read_meta(&meta) else {
        return 0;
    };
    let on_disk = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    if meta.same_package(task) {
        meta.offset.min(on_disk).min(task.size)
    } else {
        0
    }
}

fn read_meta(path: &Path) -> Option<PartialMeta> {
    let text = fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

fn write_meta(path: &Path, meta: &PartialMeta) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let body = serde_json::to_vec(meta).map_err(io::Error::other)?;
    {
        let mut file = File::create(&tmp)?;
        file.write_all(&body)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)
}

fn local_error(what: &str, err: &io::Error, path: &Path) -> ApiError {
    tracing::error!(error = %err, path = %path.display(), what, "download file error");
    let message = match err.kind() {
        io::ErrorKind::PermissionDenied => {
            format!("The console may not write {}", path.display())
        }
        io::ErrorKind::StorageFull => format!("The disk is full while saving {}", path.display()),
        _ => format!("Could not {what} {}: {err}", path.display()),
    };
    ApiError::new(ErrorKind::Internal, message)
        .with_hint("Choose a folder you can write to with enough free space, then fetch again.")
}

/// Locks the partial file for this fetch. A fetch that was just dropped (a closed window) lets go of
/// it a moment later, so a short wait comes before "busy".
fn lock_briefly(file: &File, out: &Path, part_path: &Path) -> Result<(), ApiError> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    format!("{} is being downloaded already", out.display()),
                )
                .with_hint(
                    "Wait for the other download (in the window or otactl) to finish or pause it.",
                ))
            }
            Err(fs::TryLockError::Error(e)) => return Err(local_error("lock", &e, part_path)),
        }
    }
}

/// The partial file, opened, locked, cut back to its confirmed length and hashed up to it.
struct Partial {
    file: File,
    offset: u64,
    hasher: Md5,
}

fn open_partial(out: &Path, task: &OnenetTask) -> Result<Partial, ApiError> {
    let (part_path, meta_path) = partial_paths(out);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| local_error("create the folder of", &e, out))?;
    }
    let offset = saved_offset(out, task);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&part_path)
        .map_err(|e| local_error("open", &e, &part_path))?;
    lock_briefly(&file, out, &part_path)?;
    // Bytes past the confirmed offset were never acknowledged: they may be half-written.
    file.set_len(offset)
        .map_err(|e| local_error("trim", &e, &part_path))?;
    let mut hasher = Md5::new();
    file.seek(SeekFrom::Start(0))
        .map_err(|e| local_error("read", &e, &part_path))?;
    let mut reader = (&file).take(offset);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| local_error("read", &e, &part_path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| local_error("seek in", &e, &part_path))?;
    write_meta(&meta_path, &PartialMeta::for_task(task, offset))
        .map_err(|e| local_error("write", &e, &meta_path))?;
    Ok(Partial {
        file,
        offset,
        hasher,
    })
}

enum WriteMsg {
    Data(Bytes),
    /// Flush to disk and answer with the bytes written so far.
    Checkpoint(oneshot::Sender<io::Result<u64>>),
}

/// The writer thread: appends, hashes, and makes chunks durable on request.
struct Writer {
    tx: mpsc::Sender<WriteMsg>,
    done: oneshot::Receiver<io::Result<(File, [u8; 16], u64)>>,
}

impl Writer {
    fn start(partial: Partial) -> Self {
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

    async fn write(&self, bytes: Bytes) -> io::Result<()> {
        self.tx
            .send(WriteMsg::Data(bytes))
            .await
            .map_err(|_| io::Error::other("the writer stopped"))
    }

    async fn checkpoint(&self) -> io::Result<u64> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(WriteMsg::Checkpoint(tx))
            .await
            .map_err(|_| io::Error::other("the writer stopped"))?;
        rx.await
            .map_err(|_| io::Error::other("the writer stopped"))?
    }

    async fn finish(self) -> io::Result<(File, [u8; 16], u64)> {
        drop(self.tx);
        self.done
            .await
            .map_err(|_| io::Error::other("the writer stopped"))?
    }
}

/// Rate and ETA over the last few seconds; emits at most ten updates a second.
struct Meter {
    total: u64,
    resumed_from: u64,
    samples: std::collections::VecDeque<(Instant, u64)>,
    last_emit: Option<Instant>,
}

const METER_WINDOW: Duration = Duration::from_secs(3);
const EMIT_EVERY: Duration = Duration::from_millis(100);

impl Meter {
    fn new(total: u64, resumed_from: u64) -> Self {
        Self {
            total,
            resumed_from,
            samples: std::collections::VecDeque::new(),
            last_emit: None,
        }
    }

    fn snapshot(&mut self, received: u64, phase: OnenetDownloadPhase) -> OnenetDownloadProgress {
        let now = Instant::now();
        self.samples.push_back((now, received));
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > METER_WINDOW)
        {
            self.samples.pop_front();
        }
        let rate = match (self.samples.front(), self.samples.back()) {
            (Some((t0, b0)), Some((t1, b1))) if *t1 > *t0 && b1 > b0 => {
                let secs = t1.duration_since(*t0).as_secs_f64();
                (secs >= 0.05).then(|| (b1 - b0) as f64 / secs)
            }
            _ => None,
        };
        let active = matches!(phase, OnenetDownloadPhase::Downloading);
        let bytes_per_sec = rate.filter(|_| active);
        OnenetDownloadProgress {
            received,
            total: self.total,
            resumed_from: self.resumed_from,
            bytes_per_sec,
            eta_secs: bytes_per_sec
                .filter(|r| *r > 0.0)
                .map(|r| self.total.saturating_sub(received) as f64 / r),
            phase,
        }
    }

    /// A snapshot when one is due (always for phases other than Downloading).
    fn tick(
        &mut self,
        received: u64,
        phase: OnenetDownloadPhase,
    ) -> Option<OnenetDownloadProgress> {
        let now = Instant::now();
        let due = phase != OnenetDownloadPhase::Downloading
            || self
                .last_emit
                .is_none_or(|t| now.duration_since(t) >= EMIT_EVERY);
        if !due {
            return None;
        }
        self.last_emit = Some(now);
        Some(self.snapshot(received, phase))
    }
}

/// Why one chunk ended early.
enum ChunkEnd {
    /// The connection failed or closed early: retry after a wait.
    Cut(ApiError),
    Paused,
    /// Retrying cannot help.
    Fatal(ApiError),
}

/// `Content-Range: bytes a-b/len` → (a, b, len).
pub(crate) fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, len) = rest.split_once('/')?;
    let (a, b) = range.trim().split_once('-')?;
    Some((
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        len.trim().parse().ok()?,
    ))
}

/// The one-byte bodies OneNET's download answers with instead of the file.
fn download_error(byte: u8) -> Option<ApiError> {
    let err = match byte {
        b'1' => ApiError::new(ErrorKind::NotFound, "OneNET has no package file for this task")
            .with_hint("Check the task in the OneNET console; the device would report 107."),
        b'2' => ApiError::new(
            ErrorKind::Retryable,
            "OneNET's package does not have the size the task states",
        )
        .with_hint("Check for the task again; if it repeats, upload the package again in the OneNET console."),
        b'3' => ApiError::new(
            ErrorKind::Device,
            "OneNET refused the download token (invalid or expired)",
        )
        .with_hint("Check the device for its task again to get a fresh token."),
        _ => return None,
    };
    Some(err.with_vendor_code(format!("download error {}", byte as char)))
}

struct Fetcher<'a> {
    client: &'a OnenetClient,
    task: &'a OnenetTask,
    options: &'a FetchOptions,
    writer: Writer,
    meter: Meter,
    pause: PauseSignal,
}

impl Fetcher<'_> {
    /// Asks for `[start, end]` and streams it to the writer; returns the bytes it wrote.
    async fn chunk(
        &mut self,
        start: u64,
        end: u64,
        progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
    ) -> (u64, Option<ChunkEnd>) {
        let client = self.client;
        let path = match token_path(&self.task.token) {
            Ok(p) => p,
            Err(e) => return (0, Some(ChunkEnd::Fatal(e))),
        };
        let auth = match client.token() {
            Ok(t) => t,
            Err(e) => return (0, Some(ChunkEnd::Fatal(e))),
        };
        let request = client
            .http
            .get(client.base.endpoint(&path))
            .query(&[("dev_id", self.task.dev_id.as_str())])
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::RANGE, format!("bytes={start}-{end}"))
            .timeout(self.options.chunk_timeout);
        crate::ratelimit::acquire(&client.host).await;
        let sent = tokio::select! {
            sent = request.send() => sent,
            () = self.pause.wait_paused() => return (0, Some(ChunkEnd::Paused)),
        };
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                return (
                    0,
                    Some(ChunkEnd::Cut(http::transport_error(&e, &client.host))),
                )
            }
        };
        let status = response.status();
        let wanted = end - start + 1;
        // Bytes of the body to drop first: a server that ignores Range sends the whole file.
        let mut skip = 0u64;
        match status.as_u16() {
            206 => {
                let range = response
                    .headers()
                    .get(reqwest::header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_content_range);
                match range {
                    Some((a, _, len)) if a == start && len == self.task.size => {}
                    Some((_, _, len)) if len != self.task.size => {
                        return (
                            0,
                            Some(ChunkEnd::Fatal(
                                ApiError::new(
                                    ErrorKind::Device,
                                    format!(
                                    "OneNET serves a file of {len} bytes, but the task states {}",
                                    self.task.size
                                ),
                                )
                                .with_hint(
                                    "Check for the task again; the package may have been replaced.",
                                ),
                            )),
                        )
                    }
                    _ => return (0, Some(ChunkEnd::Cut(http::unreadable_answer()))),
                }
            }
            200 => skip = start,
            _ => {
                let err = http::status_error(status, None, &client.host)
                    .unwrap_or_else(http::unreadable_answer);
                let err = match response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(http::parse_retry_after)
                {
                    Some(secs) => {
                        http::status_error(status, Some(secs), &client.host).unwrap_or(err)
                    }
                    None => err,
                };
                return if err.code.is_transient() {
                    (0, Some(ChunkEnd::Cut(err)))
                } else {
                    (0, Some(ChunkEnd::Fatal(err)))
                };
            }
        }
        let mut written = 0u64;
        let mut seen = 0u64;
        // The first byte is held back until a second one arrives: a one-byte body is an error code.
        let mut held: Option<Bytes> = None;
        loop {
            let next = tokio::select! {
                next = response.chunk() => Some(next),
                () = self.pause.wait_paused() => None,
            };
            let cut = match next {
                Some(Ok(Some(b))) => Ok(b),
                Some(Ok(None)) => break,
                Some(Err(e)) => Err(ChunkEnd::Cut(http::transport_error(&e, &client.host))),
                None => Err(ChunkEnd::Paused),
            };
            let bytes = match cut {
                Ok(bytes) => bytes,
                Err(end) => {
                    if let Some(first) = held.take() {
                        if let Err(e) = self
                            .write_part(first, &mut skip, &mut written, wanted)
                            .await
                        {
                            return (written, Some(ChunkEnd::Fatal(e)));
                        }
                    }
                    return (written, Some(end));
                }
            };
            seen += bytes.len() as u64;
            let bytes = match held.take() {
                Some(first) => {
                    let mut joined = Vec::with_capacity(first.len() + bytes.len());
                    joined.extend_from_slice(&first);
                    joined.extend_from_slice(&bytes);
                    Bytes::from(joined)
                }
                None if seen == 1 && status.as_u16() == 200 && self.task.size > 1 => {
                    held = Some(bytes);
                    continue;
                }
                None => bytes,
            };
            if let Err(e) = self
                .write_part(bytes, &mut skip, &mut written, wanted)
                .await
            {
                return (written, Some(ChunkEnd::Fatal(e)));
            }
            if let Some(p) = self
                .meter
                .tick(start + written, OnenetDownloadPhase::Downloading)
            {
                progress(p);
            }
            if written >= wanted {
                break;
            }
        }
        if let Some(first) = held {
            // The whole body was one byte.
            if let Some(err) = first.first().copied().and_then(download_error) {
                return (0, Some(ChunkEnd::Fatal(err)));
            }
            if let Err(e) = self
                .write_part(first, &mut skip, &mut written, wanted)
                .await
            {
                return (written, Some(ChunkEnd::Fatal(e)));
            }
        }
        if written < wanted {
            let err = ApiError::new(
                ErrorKind::Offline,
                format!(
                    "The connection to {} closed after {} of {} bytes",
                    client.host,
                    start + written,
                    self.task.size
                ),
            )
            .with_hint("The download resumes from there.");
            return (written, Some(ChunkEnd::Cut(err)));
        }
        (written, None)
    }

    /// Hands the part of `bytes` that belongs to the range to the writer.
    async fn write_part(
        &self,
        mut bytes: Bytes,
        skip: &mut u64,
        written: &mut u64,
        wanted: u64,
    ) -> Result<(), ApiError> {
        if *skip > 0 {
            let drop = (*skip).min(bytes.len() as u64) as usize;
            bytes = bytes.slice(drop..);
            *skip -= drop as u64;
        }
        let room = wanted.saturating_sub(*written);
        if bytes.len() as u64 > room {
            bytes = bytes.slice(..room as usize);
        }
        if bytes.is_empty() {
            return Ok(());
        }
        *written += bytes.len() as u64;
        self.writer
            .write(bytes)
            .await
            .map_err(|e| local_error("write", &e, Path::new("the download")))
    }
}

fn answer_or_refusal(
    result: Result<OnenetReportAnswer, ApiError>,
    code: u16,
) -> OnenetReportAnswer {
    match result {
        Ok(answer) => answer,
        Err(err) => OnenetReportAnswer {
            code,
            accepted: false,
            message: format!("OneNET did not record {code}: {}", err.display_line()),
        },
    }
}

/// Fetches chunks until the package is complete (None) or paused (the paused progress). Every chunk's
/// bytes are made durable and the offset recorded before the next request.
async fn transfer(
    fetcher: &mut Fetcher<'_>,
    resumed_from: u64,
    part_path: &Path,
    meta_path: &Path,
    progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
) -> Result<Option<OnenetDownloadProgress>, ApiError> {
    let mut offset = resumed_from;
    let (task, options, client) = (fetcher.task, fetcher.options, fetcher.client);
    let retries = options.max_retries.unwrap_or_else(|| {
        match task.retry.and_then(|r| u32::try_from(r).ok()) {
            Some(r) if r > 0 => r,
            _ => 3,
        }
    });
    let interval = task
        .interval_secs
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs)
        .unwrap_or_default()
        .max(options.min_retry_wait);
    let mut failures = 0u32;
    while offset < task.size {
        if fetcher.pause.is_paused() {
            return Ok(Some(
                fetcher.meter.snapshot(offset, OnenetDownloadPhase::Paused),
            ));
        }
        let end = (offset + options.chunk_size).min(task.size) - 1;
        let (_, ended) = fetcher.chunk(offset, end, progress).await;
        // Whatever reached the writer is made durable and recorded before anything else happens.
        offset = fetcher
            .writer
            .checkpoint()
            .await
            .map_err(|e| local_error("write", &e, part_path))?;
        write_meta(meta_path, &PartialMeta::for_task(task, offset))
            .map_err(|e| local_error("write", &e, meta_path))?;
        match ended {
            None => failures = 0,
            Some(ChunkEnd::Paused) => {
                return Ok(Some(
                    fetcher.meter.snapshot(offset, OnenetDownloadPhase::Paused),
                ));
            }
            Some(ChunkEnd::Fatal(err)) => return Err(err),
            Some(ChunkEnd::Cut(err)) => {
                failures += 1;
                if failures > retries {
                    return Err(ApiError::new(
                        err.code,
                        format!(
                            "The download stopped at {offset} of {} bytes: {}",
                            task.size, err.message
                        ),
                    )
                    .with_hint("Fetch again: it resumes from there."));
                }
                let wait = err
                    .retry_after_secs
                    .map(|s| Duration::from_secs(u64::from(s)))
                    .unwrap_or_default()
                    .max(interval);
                tracing::info!(offset, failures, wait_ms = wait.as_millis() as u64,
                    error = %err.display_line(), "onenet download cut; resuming");
                progress(fetcher.meter.snapshot(offset, OnenetDownloadPhase::Waiting));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = fetcher.pause.wait_paused() => {}
                }
                // The official SDK checks the token before each chunk; after a cut it matters.
                if !fetcher.pause.is_paused() {
                    client
                        .check_download_token(&task.dev_id, &task.token)
                        .await?;
                }
            }
        }
    }
    progress(
        fetcher
            .meter
            .snapshot(offset, OnenetDownloadPhase::Verifying),
    );
    Ok(None)
}

/// Downloads `task`'s package to `out` (resuming `<out>.part` when it holds the same package), verifies
/// the MD5 and reports 101 — or deletes the bytes and reports 205 when they do not match.
pub async fn fetch(
    client: &OnenetClient,
    task: &OnenetTask,
    out: &Path,
    options: &FetchOptions,
    pause: PauseSignal,
    progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
) -> Result<FetchEnd, ApiError> {
    let (part_path, meta_path) = partial_paths(out);
    // Opening hashes what is already saved and may wait for a lock: not on the async threads.
    let partial = {
        let (out, task) = (out.to_path_buf(), task.clone());
        tokio::task::spawn_blocking(move || open_partial(&out, &task))
            .await
            .map_err(|_| ApiError::internal("opening the download file failed"))??
    };
    let resumed_from = partial.offset;
    let mut meter = Meter::new(task.size, resumed_from);
    progress(meter.snapshot(resumed_from, OnenetDownloadPhase::Checking));
    client
        .check_download_token(&task.dev_id, &task.token)
        .await?;
    let mut fetcher = Fetcher {
        client,
        task,
        options,
        writer: Writer::start(partial),
        meter,
        pause,
    };
    let transferred = transfer(&mut fetcher, resumed_from, &part_path, &meta_path, progress).await;
    // The file is closed (and unlocked) however the transfer ended, before this fetch returns.
    let Fetcher {
        writer, mut meter, ..
    } = fetcher;
    let finished = writer.finish().await;
    if let Some(paused) = transferred? {
        progress(paused.clone());
        return Ok(FetchEnd::Paused { progress: paused });
    }
    let (file, digest, length) = finished.map_err(|e| local_error("write", &e, &part_path))?;
    drop(file);
    let md5 = ota_core::hex::lower_hex(&digest);
    if length != task.size || md5 != task.md5 {
        let _ = fs::remove_file(&part_path);
        let _ = fs::remove_file(&meta_path);
        let report = if options.report {
            Some(answer_or_refusal(
                client.report(&task.dev_id, &task.token, MD5_MISMATCH).await,
                MD5_MISMATCH,
            ))
        } else {
            None
        };
        let mut message = format!(
            "The package's MD5 is {md5}, not {} as the task states: the download was deleted",
            task.md5
        );
        if let Some(report) = report {
            message.push_str(if report.accepted {
                " and 205 (MD5 check failed) reported to OneNET"
            } else {
                "; reporting 205 failed"
            });
        }
        return Err(ApiError::new(ErrorKind::Device, message)
            .with_hint("Check for the task again and download it anew; if it repeats, the package on the platform is damaged.")
            .with_vendor_code("result 205"));
    }
    fs::rename(&part_path, out).map_err(|e| local_error("save", &e, out))?;
    let _ = fs::remove_file(&meta_path);
    let report = if options.report {
        answer_or_refusal(
            client.report(&task.dev_id, &task.token, DOWNLOADED).await,
            DOWNLOADED,
        )
    } else {
        OnenetReportAnswer {
            code: DOWNLOADED,
            accepted: false,
            message: format!(
                "Not reported ({}).",
                results::entry(DOWNLOADED)
                    .map(|e| e.meaning)
                    .unwrap_or_default()
            ),
        }
    };
    let mut done = meter.snapshot(length, OnenetDownloadPhase::Done);
    done.bytes_per_sec = None;
    progress(done);
    Ok(FetchEnd::Done {
        outcome: OnenetFetchOutcome {
            path: out.display().to_string(),
            size: task.size,
            md5,
            bytes_transferred: task.size - resumed_from,
            resumed_from,
            report,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        assert_eq!(
            parse_content_range("bytes 0-99/22000"),
            Some((0, 99, 22000))
        );
        assert_eq!(parse_content_range("bytes  2-21/22 "), Some((2, 21, 22)));
        assert_eq!(parse_content_range("bytes */22"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }

    #[test]
    fn one_byte_errors_are_words() {
        assert_eq!(download_error(b'1').unwrap().code, ErrorKind::NotFound);
        assert_eq!(download_error(b'3').unwrap().code, ErrorKind::Device);
        assert!(download_error(b'x').is_none());
    }

    #[test]
    fn partial_meta_names_its_package() {
        let task = OnenetTask {
            dev_id: "1".into(),
            target_version: "V2".into(),
            token: "ota_a".into(),
            size: 10,
            md5: "0".repeat(32),
            min_signal: None,
            min_power: None,
            retry: None,
            interval_secs: None,
            package: ota_core::onenet::OnenetPackageKind::Full,
            task_type: ota_core::onenet::OnenetTaskType::Application,
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fw.bin");
        assert_eq!(saved_offset(&out, &task), 0);
        let (part, meta) = partial_paths(&out);
        fs::write(&part, b"12345").unwrap();
        write_meta(&meta, &PartialMeta::for_task(&task, 4)).unwrap();
        assert_eq!(saved_offset(&out, &task), 4);
        let other = OnenetTask {
            md5: "1".repeat(32),
            ..task.clone()
        };
        assert_eq!(saved_offset(&out, &other), 0);
        // The recorded offset never passes what is on disk.
        write_meta(&meta, &PartialMeta::for_task(&task, 9)).unwrap();
        assert_eq!(saved_offset(&out, &task), 5);
        // Opening cuts the file back to the confirmed length.
        write_meta(&meta, &PartialMeta::for_task(&task, 3)).unwrap();
        let partial = open_partial(&out, &task).unwrap();
        assert_eq!(partial.offset, 3);
        assert_eq!(fs::metadata(&part).unwrap().len(), 3);
        let expected: [u8; 16] = Md5::digest(b"123").into();
        let got: [u8; 16] = partial.hasher.finalize().into();
        assert_eq!(got, expected);
    }
}
