//! The metrics of a headless runner (`otactl serve --metrics ADDR`), in the Prometheus / OpenMetrics text
//! format, through the official Prometheus client (`prometheus-client`).
//!
//! Gauges are read from the store when they are rendered (what every process on the data folder did);
//! counters count what this process did, told by the campaign runners as they record it
//! ([`CampaignObserver`]) and by the cloud clients as their requests end ([`RequestObserver`]).

use std::sync::Arc;

use ota_core::campaign::runner::CampaignObserver;
use ota_core::net::RequestObserver;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::campaigns::{CampaignLease, CampaignState};
use crate::{ApiError, App, Cloud, ErrorKind};

/// The Content-Type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct State {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Host {
    host: String,
}

/// What a runner process exposes. Counters are `_total` in the text (OpenMetrics names them so).
pub struct Metrics {
    registry: Registry,
    campaigns: Family<State, Gauge>,
    campaign_devices: Family<State, Gauge>,
    device_starts: Counter,
    device_failures: Family<Kind, Counter>,
    cloud_requests: Family<Host, Counter>,
    cloud_rate_limited: Family<Host, Counter>,
    lease_takeovers: Counter,
}

/// The device states the gauge shows: `starting` and `running` are one, `in_flight`, as the dashboard
/// counts them.
const DEVICE_STATES: [&str; 6] = [
    "pending",
    "in_flight",
    "succeeded",
    "failed",
    "skipped",
    "cancelled",
];

const CAMPAIGN_STATES: [CampaignState; 7] = [
    CampaignState::AwaitingApproval,
    CampaignState::Ready,
    CampaignState::Running,
    CampaignState::Paused,
    CampaignState::Completed,
    CampaignState::Aborted,
    CampaignState::Cancelled,
];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ota");
        let campaigns = Family::<State, Gauge>::default();
        let campaign_devices = Family::<State, Gauge>::default();
        let device_starts = Counter::default();
        let device_failures = Family::<Kind, Counter>::default();
        let cloud_requests = Family::<Host, Counter>::default();
        let cloud_rate_limited = Family::<Host, Counter>::default();
        let lease_takeovers = Counter::default();
        registry.register(
            "campaigns",
            "Campaigns in the store, by state",
            campaigns.clone(),
        );
        registry.register(
            "campaign_devices",
            "Devices of every campaign in the store, by state (in_flight: starting or running)",
            campaign_devices.clone(),
        );
        registry.register(
            "device_starts",
            "Device update starts this process sent for campaigns",
            device_starts.clone(),
        );
        registry.register(
            "device_failures",
            "Failed device attempts this process recorded for campaigns, by the error's stable code",
            device_failures.clone(),
        );
        registry.register(
            "cloud_requests",
            "HTTP requests this process sent to the clouds, by host",
            cloud_requests.clone(),
        );
        registry.register(
            "cloud_rate_limited",
            "Cloud answers HTTP 429 (slow down) this process got, by host",
            cloud_rate_limited.clone(),
        );
        registry.register(
            "lease_takeovers",
            "Campaigns this process took over from a runner whose lease had expired",
            lease_takeovers.clone(),
        );
        Self {
            registry,
            campaigns,
            campaign_devices,
            device_starts,
            device_failures,
            cloud_requests,
            cloud_rate_limited,
            lease_takeovers,
        }
    }

    /// The metrics as text, the gauges read from `app`'s store now (every state shows, 0 when none is in
    /// it). Blocking (SQLite reads).
    pub fn render(&self, app: &App) -> Result<String, ApiError> {
        let campaigns = app.campaigns()?;
        for state in CAMPAIGN_STATES {
            let n = campaigns.iter().filter(|c| c.state == state).count();
            self.campaigns
                .get_or_create(&State {
                    state: state.as_str(),
                })
                .set(n as i64);
        }
        let mut devices = [0i64; DEVICE_STATES.len()];
        for c in &campaigns {
            let n = &c.counts;
            for (slot, count) in devices.iter_mut().zip([
                n.pending,
                n.in_flight,
                n.succeeded,
                n.failed,
                n.skipped,
                n.cancelled,
            ]) {
                *slot += i64::from(count);
            }
        }
        for (state, n) in DEVICE_STATES.into_iter().zip(devices) {
            self.campaign_devices.get_or_create(&State { state }).set(n);
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| ApiError::internal(format!("the metrics could not be written: {e}")))?;
        Ok(text)
    }

    /// Counts this process's cloud requests from now on (one observer per process: the last set wins).
    pub fn watch_cloud_requests(self: &Arc<Self>) {
        ota_core::net::set_request_observer(Some(self.clone()));
    }
}

impl CampaignObserver for Metrics {
    fn lease_taken(&self, _campaign_id: i64, previous: Option<&CampaignLease>) {
        if previous.is_some() {
            self.lease_takeovers.inc();
        }
    }

    fn device_started(&self, _campaign_id: i64, _cloud: Cloud) {
        self.device_starts.inc();
    }

    fn device_failed(&self, _campaign_id: i64, _cloud: Cloud, kind: ErrorKind) {
        self.device_failures
            .get_or_create(&Kind {
                kind: kind.as_str(),
            })
            .inc();
    }
}

impl RequestObserver for Metrics {
    fn request_done(&self, host: &str, status: Option<u16>) {
        let host = Host {
            host: host.to_string(),
        };
        self.cloud_requests.get_or_create(&host).inc();
        if status == Some(429) {
            self.cloud_rate_limited.get_or_create(&host).inc();
        }
    }
}
