//! Bluetooth package downloads: no deadline for the whole download, but one per read, and a size cap (the
//! plan's `fileSize`, never more than an absolute cap). A stalled or endless server ends in a clear error
//! and leaves nothing behind.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::routing::get;
use axum::Router;
use futures::StreamExt;
use ota_clouds::http::{build_client, BaseUrl, HttpConfig};
use ota_clouds::quectel::{BlePlan, PackageLimits, QuectelClient, VerifiedPackage};
use ota_clouds::RetryPolicy;
use ota_core::cloud::{Credentials, SessionCache};
use ota_core::{ApiError, ErrorKind, Secret};
use sha2::{Digest, Sha256};

const PACKAGE_BYTES: usize = 4096;
const CHUNK_BYTES: usize = 512;
/// Short, so a stall is seen in a fraction of a second instead of the real 30 s.
const IDLE: Duration = Duration::from_millis(300);

fn package() -> Vec<u8> {
    (0..PACKAGE_BYTES).map(|i| (i % 251) as u8).collect()
}

/// The package, then as much again.
fn twice_the_package() -> Vec<u8> {
    let mut twice = package();
    twice.extend(package());
    twice
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

type Chunk = Result<Bytes, Infallible>;

/// `bytes` in chunks, `gap` apart.
fn trickle(bytes: Vec<u8>, gap: Duration) -> Body {
    let chunks: Vec<Vec<u8>> = bytes.chunks(CHUNK_BYTES).map(<[u8]>::to_vec).collect();
    Body::from_stream(futures::stream::iter(chunks).then(move |chunk| async move {
        tokio::time::sleep(gap).await;
        Ok::<_, Infallible>(Bytes::from(chunk))
    }))
}

/// A package server; counts the requests it gets.
async fn serve(requests: Arc<AtomicUsize>) -> String {
    let counted = |requests: &Arc<AtomicUsize>| {
        let requests = requests.clone();
        move || {
            requests.fetch_add(1, Ordering::SeqCst);
        }
    };
    let (a, b, c, d, e, f) = (
        counted(&requests),
        counted(&requests),
        counted(&requests),
        counted(&requests),
        counted(&requests),
        counted(&requests),
    );
    let router = Router::new()
        // The whole package, a chunk every 100 ms: slower in all than the client's whole-request timeout,
        // but never idle for long.
        .route(
            "/steady.bin",
            get(move || async move {
                a();
                trickle(package(), Duration::from_millis(100))
            }),
        )
        // Half the package, then nothing more, ever.
        .route(
            "/stalls.bin",
            get(move || async move {
                b();
                let half = package()[..PACKAGE_BYTES / 2].to_vec();
                let first =
                    futures::stream::once(async move { Ok::<_, Infallible>(Bytes::from(half)) });
                Body::from_stream(first.chain(futures::stream::pending::<Chunk>()))
            }),
        )
        // No answer at all, not even the headers.
        .route(
            "/silent.bin",
            get(move || async move {
                c();
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Body::empty()
            }),
        )
        // The package, then as much again, streamed (no Content-Length).
        .route(
            "/endless.bin",
            get(move || async move {
                d();
                trickle(twice_the_package(), Duration::ZERO)
            }),
        )
        // Twice the package, with a Content-Length that says so.
        .route(
            "/announced-twice.bin",
            get(move || async move {
                e();
                Body::from(twice_the_package())
            }),
        )
        .route(
            "/package.bin",
            get(move || async move {
                f();
                Body::from(package())
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// A client whose shared HTTP client gives up on any request after `request_timeout`.
fn client(server: &str, request_timeout: Duration, limits: PackageLimits) -> QuectelClient {
    let http = build_client(&HttpConfig {
        request_timeout,
        ..HttpConfig::default()
    })
    .unwrap();
    QuectelClient::new(
        http,
        BaseUrl::parse(server).unwrap(),
        Credentials {
            username: Some("fleet@example.com".into()),
            secret: Secret::new("unused"),
        },
        SessionCache::in_memory(),
        RetryPolicy::none(),
    )
    .unwrap()
    .with_package_limits(limits)
}

fn limits() -> PackageLimits {
    PackageLimits {
        idle_timeout: IDLE,
        ..PackageLimits::default()
    }
}

fn plan(server: &str, path: &str, file_size: Option<i64>) -> BlePlan {
    BlePlan {
        plan_id: Some(9),
        file_name: Some("fw.bin".into()),
        file_url: Some(format!("{server}{path}")),
        file_size,
        file_sign: Some(sha256_hex(&package())),
        ..BlePlan::default()
    }
}

/// Downloads the plan of `path` on `server` (announcing `file_size` bytes) into a fresh folder: the
/// folder and how the download ended.
async fn download_into_fresh_folder(
    client: &QuectelClient,
    server: &str,
    path: &str,
    file_size: Option<i64>,
) -> (tempfile::TempDir, Result<VerifiedPackage, ApiError>) {
    let dir = tempfile::tempdir().unwrap();
    let ended = client
        .download_package(&plan(server, path, file_size), dir.path())
        .await;
    (dir, ended)
}

/// A package server (its requests not counted) and a client that gives up on any other request after
/// 30 s, with the short idle timeout.
async fn server_and_client() -> (String, QuectelClient) {
    let server = serve(Arc::default()).await;
    let client = client(&server, Duration::from_secs(30), limits());
    (server, client)
}

fn files_in(dir: &tempfile::TempDir) -> Vec<String> {
    std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn a_slow_but_steady_download_outlasts_the_whole_request_timeout() {
    let server = serve(Arc::default()).await;
    // Every other request of this client ends after 300 ms; the package takes about 800 ms.
    let client = client(&server, Duration::from_millis(300), limits());
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let package = client
        .download_package(
            &plan(&server, "/steady.bin", Some(PACKAGE_BYTES as i64)),
            dir.path(),
        )
        .await
        .expect("a steady download is not cut off by the whole-request timeout");
    assert!(started.elapsed() > Duration::from_millis(600));
    assert_eq!(package.size, PACKAGE_BYTES as u64);
    assert_eq!(std::fs::read(&package.path).unwrap(), self::package());
    assert_eq!(files_in(&dir), ["fw.bin"]);
}

#[tokio::test]
async fn a_stalled_download_ends_after_the_idle_timeout_with_nothing_kept() {
    let (server, client) = server_and_client().await;
    for path in ["/stalls.bin", "/silent.bin"] {
        let started = Instant::now();
        let announced = Some(PACKAGE_BYTES as i64);
        let (dir, ended) = download_into_fresh_folder(&client, &server, path, announced).await;
        let err = ended.unwrap_err();
        let waited = started.elapsed();
        assert!(
            waited >= IDLE && waited < Duration::from_secs(5),
            "{path}: {waited:?}"
        );
        assert_eq!(err.code, ErrorKind::Offline, "{path}");
        assert!(err.message.contains("stalled"), "{path}: {}", err.message);
        assert!(err.message.contains("300 ms"), "{path}: {}", err.message);
        assert!(err.hint.is_some());
        assert!(files_in(&dir).is_empty(), "{path}: {:?}", files_in(&dir));
    }
}

#[tokio::test]
async fn a_server_sending_more_than_the_plan_announced_is_cut_off() {
    let (server, client) = server_and_client().await;
    for path in ["/endless.bin", "/announced-twice.bin"] {
        let announced = Some(PACKAGE_BYTES as i64);
        let (dir, ended) = download_into_fresh_folder(&client, &server, path, announced).await;
        let err = ended.unwrap_err();
        assert_eq!(err.code, ErrorKind::Validation, "{path}");
        assert!(
            err.message.contains(&format!(
                "more than the {PACKAGE_BYTES} bytes the plan announced"
            )),
            "{path}: {}",
            err.message
        );
        assert!(err.message.contains("nothing was kept"), "{}", err.message);
        assert!(files_in(&dir).is_empty(), "{path}: {:?}", files_in(&dir));
    }
}

#[tokio::test]
async fn without_a_file_size_the_absolute_cap_applies() {
    let server = serve(Arc::default()).await;
    let cap = PackageLimits {
        idle_timeout: IDLE,
        max_bytes: PACKAGE_BYTES as u64,
    };
    let client = client(&server, Duration::from_secs(30), cap);
    let dir = tempfile::tempdir().unwrap();
    let err = client
        .download_package(&plan(&server, "/endless.bin", None), dir.path())
        .await
        .unwrap_err();
    common::assert_refused(&err, "the console accepts");
    assert!(files_in(&dir).is_empty());

    // Within the cap, the same client downloads a package of exactly that size.
    let package = client
        .download_package(&plan(&server, "/package.bin", None), dir.path())
        .await
        .unwrap();
    assert_eq!(package.size, PACKAGE_BYTES as u64);
}

#[tokio::test]
async fn a_plan_announcing_more_than_the_absolute_cap_is_refused_before_any_download() {
    let requests: Arc<AtomicUsize> = Arc::default();
    let server = serve(requests.clone()).await;
    let client = client(&server, Duration::from_secs(30), limits());
    let dir = tempfile::tempdir().unwrap();
    let huge = ota_clouds::quectel::ble::MAX_PACKAGE_BYTES as i64 + 1;
    let err = client
        .download_package(&plan(&server, "/package.bin", Some(huge)), dir.path())
        .await
        .unwrap_err();
    common::assert_refused(&err, "nothing was downloaded");
    assert_eq!(requests.load(Ordering::SeqCst), 0, "nothing was asked for");
    assert!(files_in(&dir).is_empty());
}
