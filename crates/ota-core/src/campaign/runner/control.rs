//! What a host that runs campaigns unattended (`otactl serve`) gives their runners: a stop signal, the
//! name its lease rows show, and an observer told what the runner records (for metrics and its log).
//! A plain run ([`super::run`]) uses the defaults: never stopped, named after this executable, unobserved.

use std::sync::Arc;
use std::time::Duration;

pub use tokio_util::sync::CancellationToken;

use crate::campaign::model::CampaignLease;
use crate::error::ErrorKind;
use crate::model::Cloud;

/// How long a stopped runner waits for the requests its device tasks have in flight before it drops them
/// (their devices stay in flight: the next runner reads their status before sending anything).
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// What a runner tells its host, each once the store has recorded it (so the counts match the campaign's
/// own). Every method has an empty default.
pub trait CampaignObserver: Send + Sync {
    /// This runner holds the campaign's lease now; `previous` is the runner whose expired lease it took
    /// over (a takeover, audited as `campaign.takeover`), `None` when the lease was free.
    fn lease_taken(&self, _campaign_id: i64, _previous: Option<&CampaignLease>) {}
    /// Another runner holds the campaign's lease: this one follows it until it ends or stops renewing.
    fn following(&self, _campaign_id: i64, _holder: &CampaignLease) {}
    /// This runner sent a device's start request and recorded it (a start found after a restart, sent by
    /// a runner that stopped before recording it, is not counted again).
    fn device_started(&self, _campaign_id: i64, _cloud: Cloud) {}
    /// A device's attempt failed and was recorded, for the reason `kind` (a device retried later fails
    /// again as a new attempt).
    fn device_failed(&self, _campaign_id: i64, _cloud: Cloud, _kind: ErrorKind) {}
}

/// The runner's controls; [`Default`] is a plain run.
#[derive(Clone)]
pub struct RunnerControl {
    /// Cancelled: the runner stops gracefully — no device starts any more, its device tasks end at their
    /// next wait (a request in flight finishes, for at most `grace`), what they found is recorded, the
    /// lease is released (another runner takes over at once), and the run returns. A runner that only
    /// follows another returns at once.
    pub stop: CancellationToken,
    /// See `stop`.
    pub grace: Duration,
    /// The program its lease rows name (`campaign status`: "run by PROGRAM pid N on host H"); this
    /// executable's name when `None`.
    pub program: Option<String>,
    pub observer: Option<Arc<dyn CampaignObserver>>,
}

impl Default for RunnerControl {
    fn default() -> Self {
        Self {
            stop: CancellationToken::new(),
            grace: STOP_GRACE,
            program: None,
            observer: None,
        }
    }
}

impl RunnerControl {
    pub(super) fn stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    pub(super) fn observe(&self, tell: impl FnOnce(&dyn CampaignObserver)) {
        if let Some(observer) = &self.observer {
            tell(observer.as_ref());
        }
    }
}
