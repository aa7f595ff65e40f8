//! `ota-sim`: one HTTP server that plays the Vicohome, OneNET and Quectel clouds for OTA Console's
//! sandbox and tests, over a deterministic fleet, with switchable faults and a log of every call.
//! OneNET's device-side OTA API (check, token check, ranged download, progress, report, versions) and
//! its `/_sim/onenet/tasks` management live in [`onenet`]. Served over HTTP/1.1 with title-case
//! header names, as OneNET's strict embedded clients expect.
//!
//! The test-only admin API, under `/_sim/` (not cloud calls: no faults, no call log):
//! - fleet, accounts, faults, call log, device patches, clock: `/_sim/devices[/{id}]`, `/_sim/accounts`,
//!   `/_sim/faults[/{id}]`, `/_sim/log`, `/_sim/clock` (see `admin`);
//! - publishing: `POST /_sim/vicohome/firmware` `{"version", "model"?, "size"?}` makes a version the
//!   newest of a Vicohome model (or all) and its cameras; Quectel plans `POST /_sim/quectel/plans`;
//!   OneNET tasks `/_sim/onenet/tasks` (with `"autonomous": true` the simulated device runs the task by
//!   itself on the simulated clock) and `/_sim/onenet/products`;
//! - `GET /_sim/starts` → `{"vicohome": {serial: n}, "quectel": {deviceKey: n}, "onenet": {dev_id: n}}`,
//!   the accepted update starts per device; `DELETE /_sim/starts` clears it (see `publish`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ota_sim::SimError> {
//! let sim = ota_sim::spawn(ota_sim::SimConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{}", sim.url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod admin_guard;
pub mod clock;
pub mod faults;
pub mod fleet;
mod gateway;
pub mod log;
pub mod onenet;
mod publish;
mod quectel;
mod splitmix;
pub mod vicohome;
mod world;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{FaultKind, FaultSpec};
pub use fleet::{Cloud, Device, Fleet};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("invalid fault: {0}")]
    InvalidFault(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub devices: usize,
    pub seed: u64,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Faults switched on from the start.
    pub faults: Vec<FaultSpec>,
    /// Session token lifetime, in simulated time.
    pub token_ttl: Duration,
    /// How late the `slow` fault makes an answer, in real time.
    pub slow_delay: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            devices: 120,
            seed: 42,
            time_scale: 1.0,
            faults: Vec::new(),
            token_ttl: Duration::from_secs(24 * 3600),
            slow_delay: Duration::from_secs(3),
        }
    }
}

impl SimConfig {
    pub fn validate(&self) -> Result<(), SimError> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(SimError::Config(format!(
                "time scale must be a positive number, not {}",
                self.time_scale
            )));
        }
        if self.token_ttl.is_zero() {
            return Err(SimError::Config("token TTL must be above zero".into()));
        }
        for fault in &self.faults {
            fault.validate()?;
        }
        Ok(())
    }
}

/// The simulator's routes, for embedding in another server.
pub fn router(config: &SimConfig) -> Result<Router, SimError> {
    config.validate()?;
    let sim = Arc::new(world::Sim::new(config));
    Ok(Router::new()
        .merge(vicohome::routes())
        .merge(quectel::routes())
        .merge(onenet::routes())
        .merge(admin::routes())
        .merge(publish::routes())
        .layer(axum::middleware::from_fn(admin_guard::guard))
        .with_state(sim))
}

/// A running simulator; it stops when dropped or on [`SimHandle::shutdown`].
pub struct SimHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// "http://ip:port".
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving; open connections get a moment to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Builds the fleet, binds `listen` and serves in the background (needs a Tokio runtime).
pub async fn spawn(config: SimConfig, listen: SocketAddr) -> Result<SimHandle, SimError> {
    let app = router(&config)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: listen,
        source,
    })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, stopped));
    tracing::info!(%addr, devices = config.devices, seed = config.seed, time_scale = config.time_scale, "ota-sim listening");
    Ok(SimHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// The address a request's connection was accepted on (a request extension set by [`spawn`]'s
/// server; absent when the router is embedded elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr(pub SocketAddr);

/// Serves HTTP/1.1 (and HTTP/2) with title-case response header names (`Content-Length`,
/// `Content-Range`): OneNET's embedded device SDKs compare header names case-sensitively, and the real
/// service answers them this way. Stops accepting when `stopped` fires; open connections finish.
async fn serve(listener: tokio::net::TcpListener, app: Router, mut stopped: oneshot::Receiver<()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    // Closes idle keep-alive connections at shutdown (or when this task is dropped), so a stopped
    // simulator is really gone for its clients.
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().title_case_headers(true);
    let builder = Arc::new(builder);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Too many open files and the like: wait a moment rather than spin.
                tracing::warn!(error = %err, "the simulator could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Handlers that must name the server's own address (OneNET's `ipPort`) find it here.
        let local = stream.local_addr().ok().map(LocalAddr);
        let service = TowerToHyperService::new(app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                if let Some(local) = local {
                    request.extensions_mut().insert(local);
                }
                request
            },
        ));
        let builder = builder.clone();
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!(error = %err, "a simulator connection ended with an error");
            }
        });
    }
    if tokio::time::timeout(Duration::from_secs(2), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("simulator connections still open after 2 s; leaving them");
    }
}
