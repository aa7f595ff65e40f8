//! `otactl serve [--name NAME] [--metrics ADDR]`: runs every running campaign of the data folder until
//! SIGTERM or SIGINT (`ota_app::serve`), saying on stderr what it picks up, follows, takes over and
//! finishes, one plain line each; with `--metrics`, serves `GET /metrics` (Prometheus text). A stop is
//! graceful: nothing new starts, requests in flight finish, leases are released; then it exits 0.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use ota_app::metrics::{Metrics, CONTENT_TYPE};
use ota_app::serve::{default_name, ServeOptions};
use ota_app::{ApiError, App, ErrorKind};

use crate::context::Context;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// This runner's name: the audit log's user for what it does, and who `campaign status` says runs a
    /// campaign ("otactl serve NAME"). Default: the host name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}

impl ServeArgs {
    /// The runner's name as given, or the host name.
    pub fn runner_name(&self) -> String {
        self.name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map_or_else(default_name, str::to_string)
    }
}

pub async fn run(ctx: &Context, args: ServeArgs) -> Result<ExitCode, ApiError> {
    // The handlers are in place before anything runs: a signal from now on stops gracefully.
    let stop = stop_signal()?;
    let mut options = ServeOptions::named(args.runner_name());
    options.report = Arc::new(|event| eprintln!("{}", event.line()));
    let metrics_server = match args.metrics {
        Some(addr) => {
            let metrics = Arc::new(Metrics::new());
            options.metrics = Some(metrics.clone());
            Some(serve_metrics(ctx.app.clone(), metrics, addr).await?)
        }
        None => None,
    };
    let summary = ctx
        .app
        .serve(options, async move {
            let signal = stop.await;
            eprintln!("{signal}: stopping");
        })
        .await?;
    if let Some(server) = metrics_server {
        server.abort();
    }
    eprintln!(
        "stopped: {} campaign(s) picked up, {} ended, {} handed back",
        summary.picked_up, summary.ended, summary.stopped
    );
    Ok(ExitCode::SUCCESS)
}

/// Resolves with the name of the first SIGTERM or SIGINT (Ctrl-C elsewhere than Unix).
fn stop_signal() -> Result<impl std::future::Future<Output = &'static str>, ApiError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let cannot =
            |e: std::io::Error| ApiError::internal(format!("cannot listen for signals: {e}"));
        let mut term = signal(SignalKind::terminate()).map_err(cannot)?;
        let mut int = signal(SignalKind::interrupt()).map_err(cannot)?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

/// Listens on `addr` and answers `GET /metrics` until aborted; says where on stderr.
async fn serve_metrics(
    app: Arc<App>,
    metrics: Arc<Metrics>,
    addr: SocketAddr,
) -> Result<tokio::task::JoinHandle<()>, ApiError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        ApiError::new(
            ErrorKind::Validation,
            format!("Cannot serve metrics at {addr}: {e}."),
        )
        .with_hint("Choose another --metrics address (port 0 picks a free one).")
    })?;
    let bound = listener.local_addr().unwrap_or(addr);
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (app, metrics) = (app.clone(), metrics.clone());
            async move {
                use axum::http::{header, StatusCode};
                let rendered = tokio::task::spawn_blocking(move || metrics.render(&app)).await;
                match rendered {
                    Ok(Ok(text)) => (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], text),
                    Ok(Err(err)) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                        err.display_line(),
                    ),
                    Err(err) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                        err.to_string(),
                    ),
                }
            }
        }),
    );
    eprintln!("metrics at http://{bound}/metrics");
    Ok(tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            eprintln!("the metrics server stopped: {err}");
        }
    }))
}
