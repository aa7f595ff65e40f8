//! A OneNET package fetched the way a careful device would: token check, then ranged chunks written to
//! `<out>.part` whose durable length is recorded in `<out>.part.json` as the chunks complete (exactly
//! at a pause or a cut), so a cut connection, a pause or a closed app resumes where it stopped; the MD5
//! is verified before the file takes its real name, and the download's result is reported to OneNET:
//! 101, or on a mismatch 107 (a download-phase code: see [`VERIFY_FAILED`]), after the bytes were
//! deleted.
//!
//! Hashing, writing and syncing run on threads of their own, so the network, the MD5 and the disk
//! overlap; what a crash can lose is stated with the fsync policy in `writer`.
//!
//! Nothing outside is trusted on the way: the task's ids are checked before the disk or the network is
//! touched ([`super::ids::task`]); `<out>.part` and `<out>.part.json` are never opened through a link,
//! are private (0600) and stay locked from the open until the rename (or the deletion), so the window
//! and `otactl` cannot write one package at once; the waits between attempts are capped
//! ([`crate::retry`]) whatever the task's `retry` / `interval` or a `Retry-After` ask for.
//!
//! The parts: `partial` (the `.part` file and its `.part.json` offsets), `chunk` (one ranged request),
//! `transfer` (the chunk loop with its retries), `writer` (the hashing, writing and syncing threads),
//! `meter` (rate and ETA) and `report` (what OneNET and the user are told at the end); this module runs
//! them in order. What a caller gives a fetch — [`FetchOptions`] and the window's pause switch — is
//! `ota_core::onenet::fetch`'s, re-exported here; the workflows reach this fetch through
//! `OnenetDeviceApi::fetch_package`.

mod chunk;
mod meter;
mod partial;
mod report;
mod transfer;
mod writer;

use std::fs;
use std::path::Path;

use ota_core::onenet::{
    OnenetDownloadPhase, OnenetDownloadProgress, OnenetFetchOutcome, OnenetReportAnswer, OnenetTask,
};
use ota_core::ApiError;

use super::ids;
use super::results::{self, DOWNLOADED, VERIFY_FAILED};
use super::OnenetClient;
use crate::download_files as files;
use chunk::Fetcher;
use meter::Meter;
use partial::{local_error, open_partial, Recorder};
use report::{answer_or_refusal, verify_failure};
use transfer::transfer;
use writer::Writer;

// Only the fuzz tests read ranges from outside.
#[cfg(test)]
pub(crate) use chunk::parse_content_range;
pub use ota_core::onenet::fetch::{pause_switch, FetchOptions, PauseSignal, PauseSwitch};
pub use ota_core::onenet::OnenetFetchEnd as FetchEnd;
pub use partial::{partial_paths, saved_offset};

/// Downloads `task`'s package to `out` (resuming `<out>.part` when it holds the same package), verifies
/// the MD5 and reports 101 — or deletes the bytes and reports 107 when they do not match.
pub async fn fetch(
    client: &OnenetClient,
    task: &OnenetTask,
    out: &Path,
    options: &FetchOptions,
    pause: PauseSignal,
    progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
) -> Result<FetchEnd, ApiError> {
    // Before the disk or the network: every id that reaches a path or a URL is OneNET's.
    ids::task(task)?;
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
        writer: Writer::start(
            partial,
            part_path.clone(),
            Recorder::new(meta_path.clone(), task),
        )?,
        meter,
        pause,
    };
    let transferred = transfer(&mut fetcher, resumed_from, progress).await;
    // The writer stops however the transfer ended; its file comes back still locked, and is closed
    // (unlocked) before this fetch returns — after the rename or the deletion when it got that far.
    let Fetcher {
        writer, mut meter, ..
    } = fetcher;
    let finished = writer.finish().await;
    if let Some(paused) = transferred? {
        progress(paused.clone());
        return Ok(FetchEnd::Paused { progress: paused });
    }
    // `locked` keeps the partial file's lock until it is renamed or deleted below.
    let (locked, digest, length) = finished?;
    let md5 = ota_core::hex::lower_hex(&digest);
    if length != task.size || md5 != task.md5 {
        files::remove_if_present(&part_path);
        files::remove_if_present(&meta_path);
        drop(locked);
        let report = if options.report {
            Some(answer_or_refusal(
                client
                    .report(&task.dev_id, &task.token, VERIFY_FAILED)
                    .await,
                VERIFY_FAILED,
            ))
        } else {
            None
        };
        return Err(verify_failure(task, &md5, report.as_ref()));
    }
    fs::rename(&part_path, out).map_err(|e| local_error("save", &e, out))?;
    files::remove_if_present(&meta_path);
    drop(locked);
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
