//! `GET /ota/south/download/{token}[?dev_id=]`: the package, whole (200) or a part (206 with
//! `Content-Range`), always with `Content-Length` and `Content-Disposition`, streamed in 64 KiB frames
//! cut from the shared package without copying and without the world lock; each frame handed to the
//! body adds to the task's `bytes_served` (one atomic add).
//!
//! The download token is the credential: `Authorization` may be left out (OneNET's own samples send
//! none here); when sent it must be valid. `dev_id`, when sent, must be the token's device.
//!
//! Errors are a 200 without `Content-Length` whose body is one byte:
//! - `3` unknown or expired token, `dev_id` not the token's device, an invalid `Authorization`, a task
//!   whose token was not checked yet (pending) or that is paused, or the `offline` fault;
//! - `1` the task is over (succeeded, failed, cancelled): nothing to serve any more;
//! - `2` (size mismatch) is never produced by the simulator.
//!
//! Faults (target = the token's device): `slow`, `http_429`, `http_5xx` as for any call;
//! `truncated_body` ends the body halfway through its range (less than `Content-Length`);
//! `download_cut` drops the connection at the package's midpoint; `corrupt_package` flips one byte.
//! `malformed_body` does not apply to a package.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::range::{self, RangeAnswer};
use super::tasks::{Package, TaskState};
use super::{authorize, call, param, DOWNLOAD};
use crate::faults::FaultKind;
use crate::log::{CallInfo, Outcome};
use crate::world::{Sim, World};

const FRAME: u64 = 64 * 1024;

/// The one-byte download errors of the shared notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DownloadError {
    NotFound = 1,
    InvalidToken = 3,
}

fn one_byte(error: DownloadError) -> Response {
    // A streamed body has no Content-Length (it is sent chunked), as OneNET answers these.
    let byte = Bytes::from(vec![b'0' + error as u8]);
    let body = Body::from_stream(futures::stream::once(async move {
        Ok::<_, std::io::Error>(byte)
    }));
    (StatusCode::OK, body).into_response()
}

/// How faults spoil the served bytes; offsets are in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Spoil {
    /// The connection drops here (the body ends in an error).
    cut_at: Option<u64>,
    /// The body ends here, short of its Content-Length.
    truncate_at: Option<u64>,
    /// This byte is flipped.
    flip_at: Option<u64>,
}

/// Where `download_cut` drops a response for `range` of a `size`-byte package: at the midpoint when
/// the response covers it, half way through the response when it starts at or past the midpoint,
/// nowhere (the fault stays armed) when it ends before it.
fn cut_point(range: RangeAnswer, size: u64) -> Option<u64> {
    let midpoint = size / 2;
    if range.start >= midpoint {
        Some(range.start + range.byte_count() / 2)
    } else if range.end >= midpoint {
        Some(midpoint)
    } else {
        None
    }
}

/// The response's frames: `range` of `package`, spoiled as told, counted into `served`.
fn frames(
    package: Arc<Package>,
    range: RangeAnswer,
    spoil: Spoil,
    served: Arc<AtomicU64>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    let stop = [spoil.cut_at, spoil.truncate_at]
        .into_iter()
        .flatten()
        .fold(range.end + 1, u64::min);
    let cut = spoil.cut_at.is_some_and(|c| c == stop);
    futures::stream::unfold(Some(range.start), move |pos| {
        let package = package.clone();
        let served = served.clone();
        async move {
            let pos = pos?;
            if pos >= stop {
                // An error ends the body mid-way: hyper drops the connection. A clean end short of
                // Content-Length (truncated_body) makes hyper close it too.
                let error =
                    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "download_cut fault");
                return cut.then_some((Err(error), None));
            }
            let end = (pos + FRAME).min(stop);
            let mut frame = package.bytes.slice(pos as usize..end as usize);
            if let Some(flip) = spoil.flip_at.filter(|f| (pos..end).contains(f)) {
                let mut owned = frame.to_vec();
                owned[(flip - pos) as usize] ^= 0xFF;
                frame = Bytes::from(owned);
            }
            served.fetch_add(end - pos, Ordering::Relaxed);
            Some((Ok(frame), Some(end)))
        }
    })
}

/// What a valid download serves.
struct Plan {
    package: Arc<Package>,
    served: Arc<AtomicU64>,
    range: RangeAnswer,
    spoil: Spoil,
    filename: String,
}

/// Checks the request against the task and the faults (under the lock); logs the call.
fn plan(
    world: &mut World,
    token: &str,
    dev_id: Option<&str>,
    auth: Option<&str>,
    range_header: Option<&str>,
) -> Result<Plan, DownloadError> {
    let now = world.now_ms();
    let task = world
        .onenet
        .by_token(token)
        .ok_or(DownloadError::InvalidToken)?;
    let owner = task.spec.dev_id.clone();
    if dev_id.is_some_and(|d| d != owner) || task.token_expired(now) && task.state.is_unfinished() {
        return Err(DownloadError::InvalidToken);
    }
    match task.state {
        TaskState::Downloading | TaskState::Upgrading => {}
        TaskState::Pending | TaskState::Paused => return Err(DownloadError::InvalidToken),
        TaskState::Succeeded | TaskState::Failed | TaskState::Cancelled => {
            return Err(DownloadError::NotFound)
        }
    }
    let (package, served) = (task.package.clone(), task.served.clone());
    let filename = format!("{}_{}.bin", task.spec.product_id, task.spec.target);
    if auth.is_some() && authorize(world, &owner, auth).is_err() {
        return Err(DownloadError::InvalidToken);
    }
    let dev = Some(owner.as_str());
    if world.faults.hit(FaultKind::Offline, dev) {
        return Err(DownloadError::InvalidToken);
    }
    let size = package.bytes.len() as u64;
    let range = range::resolve_range(range_header, size);
    let mut spoil = Spoil::default();
    if let Some(cut_at) = cut_point(range, size) {
        if world.faults.hit(FaultKind::DownloadCut, dev) {
            spoil.cut_at = Some(cut_at);
        }
    }
    if world.faults.hit(FaultKind::TruncatedBody, dev) {
        spoil.truncate_at = Some(range.start + range.byte_count() / 2);
    }
    if world.faults.hit(FaultKind::CorruptPackage, dev) {
        spoil.flip_at = Some(range.start + range.byte_count() / 2);
    }
    Ok(Plan {
        package,
        served,
        range,
        spoil,
        filename,
    })
}

pub async fn download(
    State(sim): State<Arc<Sim>>,
    Path(token): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let auth = crate::gateway::authorization(&headers);
    let dev_id = param(&params, "dev_id").map(str::to_string);
    let range_header = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Faults and the log name the token's device (dev_id is optional here).
    let (target, slow, early) = {
        let mut world = sim.lock();
        let target = world
            .onenet
            .by_token(&token)
            .map(|t| t.spec.dev_id.clone())
            .or_else(|| dev_id.clone());
        let t = target.as_deref();
        let slow = world.faults.hit(FaultKind::Slow, t);
        let early = if world.faults.hit(FaultKind::Http429, t) {
            Some(StatusCode::TOO_MANY_REQUESTS)
        } else if world.faults.hit(FaultKind::Http5xx, t) {
            Some(StatusCode::SERVICE_UNAVAILABLE)
        } else {
            None
        };
        (target, slow, early)
    };
    if slow {
        tokio::time::sleep(sim.slow_delay).await;
    }
    let info = call(DOWNLOAD, target.as_deref());
    let mut world = sim.lock();
    if let Some(status) = early {
        record(&mut world, &info, Outcome::Http(status.as_u16()), slow);
        return refused(status);
    }
    let planned = plan(
        &mut world,
        &token,
        dev_id.as_deref(),
        auth.as_deref(),
        range_header.as_deref(),
    );
    let plan = match planned {
        Ok(plan) => plan,
        Err(error) => {
            record(&mut world, &info, Outcome::Error(error as i64), slow);
            return one_byte(error);
        }
    };
    let spoiled = plan.spoil.cut_at.is_some() || plan.spoil.truncate_at.is_some();
    let outcome = if spoiled {
        Outcome::TruncatedBody
    } else {
        Outcome::Ok
    };
    record(&mut world, &info, outcome, slow);
    drop(world);
    package_response(plan)
}

fn record(world: &mut World, info: &CallInfo, outcome: Outcome, slow: bool) {
    let now = world.now_ms();
    world.log.record(info, outcome, slow, now);
}

/// 429 (with `Retry-After: 1`) or 503, plain text.
fn refused(status: StatusCode) -> Response {
    let mut response = (status, status.canonical_reason().unwrap_or("")).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn package_response(plan: Plan) -> Response {
    let size = plan.package.bytes.len() as u64;
    let range = plan.range;
    let body = Body::from_stream(frames(plan.package, range, plan.spoil, plan.served));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(range.byte_count()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", plan.filename)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if range.partial {
        if let Ok(v) = HeaderValue::from_str(&range.content_range(size)) {
            headers.insert(header::CONTENT_RANGE, v);
        }
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn part(start: u64, end: u64) -> RangeAnswer {
        RangeAnswer {
            start,
            end,
            partial: true,
        }
    }

    #[test]
    fn where_the_cut_falls() {
        assert_eq!(cut_point(part(0, 999), 1000), Some(500));
        assert_eq!(cut_point(part(100, 600), 1000), Some(500));
        assert_eq!(
            cut_point(part(0, 499), 1000),
            None,
            "ends before the midpoint"
        );
        assert_eq!(cut_point(part(500, 999), 1000), Some(750));
        assert_eq!(cut_point(part(900, 999), 1000), Some(950));
    }

    async fn collect(range: RangeAnswer, spoil: Spoil) -> (Vec<u8>, bool, u64) {
        let package = Arc::new(Package::generate(3, 200_000));
        let served = Arc::new(AtomicU64::new(0));
        let mut stream = Box::pin(frames(package, range, spoil, served.clone()));
        let (mut bytes, mut failed) = (Vec::new(), false);
        while let Some(frame) = stream.next().await {
            match frame {
                Ok(frame) => bytes.extend_from_slice(&frame),
                Err(_) => failed = true,
            }
        }
        (bytes, failed, served.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn frames_serve_count_and_spoil() {
        let package = Package::generate(3, 200_000);
        let whole = part(0, 199_999);
        let (bytes, failed, served) = collect(whole, Spoil::default()).await;
        assert_eq!(
            (&bytes[..], failed, served),
            (&package.bytes[..], false, 200_000)
        );

        let cut = Spoil {
            cut_at: Some(100_000),
            ..Spoil::default()
        };
        let (bytes, failed, served) = collect(whole, cut).await;
        assert_eq!((bytes.len(), failed, served), (100_000, true, 100_000));

        let short = Spoil {
            truncate_at: Some(70_000),
            ..Spoil::default()
        };
        let (bytes, failed, _) = collect(part(50_000, 89_999), short).await;
        assert_eq!((bytes.len(), failed), (20_000, false));

        let flip = Spoil {
            flip_at: Some(150_000),
            ..Spoil::default()
        };
        let (bytes, _, _) = collect(part(100_000, 199_999), flip).await;
        let differing: Vec<usize> = (0..bytes.len())
            .filter(|&i| bytes[i] != package.bytes[100_000 + i])
            .collect();
        assert_eq!(differing, [50_000]);
    }
}
