//! The simulator's own API under `/_sim/` changes the world (faults, devices, plans, tasks). In sandbox mode
//! it listens on loopback inside the desktop app, where a web page the user opens could reach it: by
//! DNS rebinding (a hostile name resolving to 127.0.0.1, so the `Host` header carries that name) or by a
//! cross-site "simple" POST (a form or text/plain body needs no CORS preflight). So `/_sim/` answers only
//! requests whose `Host` is a loopback address, and takes state changes only as JSON, which a browser
//! cannot send cross-site without a preflight this server never grants.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub async fn guard(request: Request<Body>, next: Next) -> Response {
    if !request.uri().path().starts_with("/_sim/") {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host());
    if !host.is_some_and(is_loopback_host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the simulator's admin API answers only requests addressed to a loopback host",
        );
    }
    if request.method() == Method::POST || request.method() == Method::PUT {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the simulator's admin API takes JSON bodies only (Content-Type: application/json)",
            );
        }
    }
    next.run(request).await
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// `127.0.0.1[:port]`, any 127.x.y.z, `localhost[:port]`, `[::1][:port]`.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_hosts_pass() {
        for ok in [
            "127.0.0.1:8080",
            "127.9.9.9",
            "localhost",
            "LOCALHOST:1",
            "[::1]:99",
            "[::1]",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "10.0.0.1",
            "[::2]:1",
            "",
            "localhost.evil",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
