//! `ota-sim`: one HTTP server that plays the Vicohome, OneNET and Quectel clouds for OTA Console's
//! sandbox and tests, over a deterministic fleet, with switchable faults and a log of every call.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ota_sim::SimError> {
//! let sim = ota_sim::spawn(ota_sim::SimConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{}", sim.url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
pub mod clock;
pub mod faults;
pub mod fleet;
mod gateway;
pub mod log;
mod onenet;
pub mod onenet_auth;
mod quectel;
mod quectel_ota;
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
        .merge(quectel_ota::routes())
        .merge(onenet::routes())
        .merge(admin::routes())
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
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "the simulator stopped serving");
        }
    });
    tracing::info!(%addr, devices = config.devices, seed = config.seed, time_scale = config.time_scale, "ota-sim listening");
    Ok(SimHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
