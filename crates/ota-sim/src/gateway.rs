//! The road every cloud call takes: generic faults first (slow, 429, 503), then the cloud's handler,
//! then body faults (malformed, truncated), and finally one line in the call log.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::faults::FaultKind;
use crate::log::{CallInfo, Outcome};
use crate::world::{Sim, World};

/// A body that is no JSON at all, for `malformed_body`.
pub const MALFORMED_BODY: &[u8] =
    b"{\"result\":0,\"msg\":\"success\",\"data\":{\"inProgress\":tru<!-- upstream -->";

/// What `oversized_body` adds to an answer: past any client's sane limit (OTA Console's is 32 MiB).
pub const OVERSIZE_PADDING: usize = 33 * 1024 * 1024;

/// What a cloud handler answers.
#[derive(Debug, Clone)]
pub struct CloudReply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub outcome: Outcome,
}

impl CloudReply {
    /// HTTP 200 with `value` as JSON.
    pub fn json(value: &impl Serialize, outcome: Outcome) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self {
                status: StatusCode::OK,
                body,
                outcome,
            },
            Err(err) => {
                tracing::error!(error = %err, "an answer could not be encoded");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    body: b"internal error".to_vec(),
                    outcome: Outcome::Http(500),
                }
            }
        }
    }
}

/// The fault (if any) that replaces or spoils the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spoiler {
    TooManyRequests,
    Unavailable,
    Malformed,
    Truncated,
    Oversized,
}

const SPOILERS: &[(FaultKind, Spoiler)] = &[
    (FaultKind::Http429, Spoiler::TooManyRequests),
    (FaultKind::Http5xx, Spoiler::Unavailable),
    (FaultKind::MalformedBody, Spoiler::Malformed),
    (FaultKind::TruncatedBody, Spoiler::Truncated),
    (FaultKind::OversizedBody, Spoiler::Oversized),
];

/// Serves one cloud call. `handler` runs under the world lock; it is skipped when a 429/503 fault
/// answers instead, and still runs (its effects happen) when only the body gets spoiled.
pub async fn serve<F>(sim: &Sim, call: CallInfo, handler: F) -> Response
where
    F: FnOnce(&mut World) -> CloudReply,
{
    let target = call.target.as_deref();
    let (slow, spoiler) = {
        let mut world = sim.lock();
        let slow = world.faults.hit(FaultKind::Slow, target);
        let spoiler = SPOILERS
            .iter()
            .find(|(kind, _)| world.faults.hit(*kind, target))
            .map(|(_, s)| *s);
        (slow, spoiler)
    };
    if slow {
        tokio::time::sleep(sim.slow_delay).await;
    }
    let early = match spoiler {
        Some(Spoiler::TooManyRequests) => Some(CloudReply {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: b"Too Many Requests".to_vec(),
            outcome: Outcome::Http(429),
        }),
        Some(Spoiler::Unavailable) => Some(CloudReply {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: b"Service Unavailable".to_vec(),
            outcome: Outcome::Http(503),
        }),
        _ => None,
    };
    let reply = {
        let mut world = sim.lock();
        let mut reply = match early {
            Some(reply) => reply,
            None => handler(&mut world),
        };
        match spoiler {
            Some(Spoiler::Malformed) => {
                reply.body = MALFORMED_BODY.to_vec();
                reply.outcome = Outcome::MalformedBody;
            }
            Some(Spoiler::Oversized) => {
                // JSON allows trailing whitespace: the answer stays valid, only its size is wrong.
                reply.body.resize(reply.body.len() + OVERSIZE_PADDING, b' ');
                reply.outcome = Outcome::OversizedBody;
            }
            Some(Spoiler::Truncated) => {
                reply.body.truncate(reply.body.len() / 2);
                reply.outcome = Outcome::TruncatedBody;
            }
            _ => {}
        }
        let now = world.now_ms();
        world.log.record(&call, reply.outcome.clone(), slow, now);
        reply
    };
    tracing::debug!(
        cloud = call.cloud.as_str(),
        endpoint = call.endpoint,
        outcome = %reply.outcome,
        "cloud call"
    );
    into_response(reply)
}

fn into_response(reply: CloudReply) -> Response {
    let mut headers = HeaderMap::new();
    let content_type = if reply.status.is_success() {
        "application/json;charset=UTF-8"
    } else {
        "text/plain; charset=utf-8"
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    (reply.status, headers, Body::from(reply.body)).into_response()
}

/// The `Authorization` header, verbatim; `None` when absent, empty or not text.
pub fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
