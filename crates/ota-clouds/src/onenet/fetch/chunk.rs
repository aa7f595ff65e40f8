//! One ranged request: `Range: bytes=a-b` with the task's download token, the answer checked against
//! the task (a `Content-Range` of another length, OneNET's one-byte error bodies, a server that ignores
//! the range) and its bytes streamed to the writer.

use std::path::Path;

use bytes::Bytes;
use ota_core::onenet::{OnenetDownloadPhase, OnenetDownloadProgress, OnenetTask};
use ota_core::{ApiError, ErrorKind};

use super::meter::Meter;
use super::partial::local_error;
use super::writer::Writer;
use super::FetchOptions;
use super::PauseSignal;
use crate::http;
use crate::onenet::ota::token_path;
use crate::onenet::OnenetClient;

/// Why one chunk ended early.
pub(super) enum ChunkEnd {
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

pub(super) struct Fetcher<'a> {
    pub(super) client: &'a OnenetClient,
    pub(super) task: &'a OnenetTask,
    pub(super) options: &'a FetchOptions,
    pub(super) writer: Writer,
    pub(super) meter: Meter,
    pub(super) pause: PauseSignal,
}

impl Fetcher<'_> {
    /// Asks for `[start, end]` and streams it to the writer; returns the bytes it wrote.
    pub(super) async fn chunk(
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
        let request = match client.request(reqwest::Method::GET, &path) {
            Ok(request) => request,
            Err(e) => return (0, Some(ChunkEnd::Fatal(e))),
        };
        let request = request
            .query(&[("dev_id", self.task.dev_id.as_str())])
            .header(reqwest::header::RANGE, format!("bytes={start}-{end}"))
            .timeout(self.options.chunk_timeout);
        crate::ratelimit::acquire(&client.host).await;
        let sent = tokio::select! {
            sent = request.send() => sent,
            () = self.pause.wait_paused() => return (0, Some(ChunkEnd::Paused)),
        };
        http::note_request(&client.host, &sent);
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
            if written >= wanted {
                // The chunk's end is told once the chunk before it is on record (see `transfer`).
                break;
            }
            if let Some(p) = self
                .meter
                .tick(start + written, OnenetDownloadPhase::Downloading)
            {
                progress(p);
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
}
