//! Headless running (`otactl serve`): this process drives every campaign that is running until it is told
//! to stop. Several such processes (on one data folder, or later one database) share the campaigns: each
//! campaign's lease lets one of them coordinate it while the others follow, and a runner that was killed
//! has its campaigns taken over once its leases expire. A campaign is set running without being run here
//! by `otactl campaign start ID --detach` (or by the window, or `campaign start` that was then killed).
//!
//! Stopping is graceful: no device starts any more, requests in flight get their answers (for at most
//! [`ServeOptions::grace`]), what they found is recorded, every lease is released — another runner takes
//! the campaigns over at once, not after the lease period — and [`App::serve`] returns.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ota_core::campaign::runner::{CampaignObserver, CancellationToken, RunnerControl};
use ota_core::campaign::{self, lease, runner};
use tokio::task::JoinSet;

use crate::campaigns::{CampaignLease, CampaignState, CampaignView};
use crate::metrics::Metrics;
use crate::{ApiError, App, Cloud, ErrorKind};

/// How often running campaigns are looked for when nothing else happens.
pub const SCAN_EVERY: Duration = Duration::from_secs(2);
/// A campaign whose runner failed (a store error, a cloud that cannot be reached at all) is picked up
/// again after this long.
const AFTER_FAILURE: Duration = Duration::from_secs(30);

/// How to serve.
#[derive(Clone)]
pub struct ServeOptions {
    /// This runner's name: its lease rows say "otactl serve NAME", so `campaign status` names the runner
    /// driving a campaign. (The audit log's actor is chosen when the app is opened: `OpenOptions::actor`.)
    pub name: String,
    /// How often running campaigns are looked for (and once at the start).
    pub scan_every: Duration,
    /// How long a stop waits for requests in flight.
    pub grace: Duration,
    /// Counts what this runner does (and its cloud requests), when metrics are served.
    pub metrics: Option<Arc<Metrics>>,
    /// Told what happens, as it happens.
    pub report: Arc<dyn Fn(ServeEvent) + Send + Sync>,
}

impl ServeOptions {
    /// Serve as `name`, with the default pace and grace, no metrics, nothing reported.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            scan_every: SCAN_EVERY,
            grace: runner::STOP_GRACE,
            metrics: None,
            report: Arc::new(|_| {}),
        }
    }
}

/// The default name of a runner: this machine's host name.
pub fn default_name() -> String {
    lease::host_name().to_string()
}

/// What a serving process does, for its log.
#[derive(Debug, Clone)]
pub enum ServeEvent {
    /// Serving began: its lease rows name it `program`.
    Serving { program: String },
    /// A running campaign this process was not driving: a driver started for it.
    PickedUp { campaign: i64, name: String },
    /// Another runner holds the campaign; this one follows it and takes over if it stops renewing.
    Following {
        campaign: i64,
        runner: CampaignLease,
    },
    /// This process coordinates the campaign now; `took_over_from` the runner whose lease had expired.
    Running {
        campaign: i64,
        took_over_from: Option<CampaignLease>,
    },
    /// The campaign's driver here ended: it completed, paused, was aborted or cancelled — or, when the
    /// state is still `running`, it was stopped here (and another runner goes on with it).
    Ended { campaign: Box<CampaignView> },
    /// The campaign's runner failed; it is picked up again later.
    Failed { campaign: i64, error: ApiError },
    /// Told to stop: the drivers still at work are stopping.
    Stopping { campaigns: usize },
    /// Team mode: the team database cannot be reached. Nothing starts here until it is back; campaigns
    /// are picked up again then (devices left in flight are read before anything is sent).
    DatabaseDown { error: ApiError },
    /// The team database answers again.
    DatabaseBack,
}

/// What a serve did, when it returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeSummary {
    /// Campaigns a driver was started for.
    pub picked_up: usize,
    /// Drivers that ended before the stop (their campaign ended or paused, or the runner failed).
    pub ended: usize,
    /// Drivers stopped by the stop.
    pub stopped: usize,
}

/// Tells the metrics and the report what a runner records.
struct Observer {
    metrics: Option<Arc<Metrics>>,
    report: Arc<dyn Fn(ServeEvent) + Send + Sync>,
}

impl CampaignObserver for Observer {
    fn lease_taken(&self, campaign_id: i64, previous: Option<&CampaignLease>) {
        if let Some(m) = &self.metrics {
            m.lease_taken(campaign_id, previous);
        }
        (self.report)(ServeEvent::Running {
            campaign: campaign_id,
            took_over_from: previous.cloned(),
        });
    }

    fn following(&self, campaign_id: i64, holder: &CampaignLease) {
        (self.report)(ServeEvent::Following {
            campaign: campaign_id,
            runner: holder.clone(),
        });
    }

    fn device_started(&self, campaign_id: i64, cloud: Cloud) {
        if let Some(m) = &self.metrics {
            m.device_started(campaign_id, cloud);
        }
    }

    fn device_failed(&self, campaign_id: i64, cloud: Cloud, kind: ErrorKind) {
        if let Some(m) = &self.metrics {
            m.device_failed(campaign_id, cloud, kind);
        }
    }
}

type Drivers = JoinSet<(i64, Option<Result<CampaignView, ApiError>>)>;

impl App {
    /// Drives every running campaign (and every campaign with devices still in flight) until `stop`
    /// completes, looking for new ones every `options.scan_every`; then stops gracefully (see the module)
    /// and answers what it did.
    pub async fn serve(
        self: &Arc<Self>,
        options: ServeOptions,
        stop: impl Future<Output = ()>,
    ) -> Result<ServeSummary, ApiError> {
        self.wait_ready().await;
        let report = options.report.clone();
        let program = format!("{} serve {}", lease::program_name(), options.name);
        let control = RunnerControl {
            stop: CancellationToken::new(),
            grace: options.grace,
            program: Some(program.clone()),
            observer: Some(Arc::new(Observer {
                metrics: options.metrics.clone(),
                report: report.clone(),
            })),
        };
        if let Some(metrics) = &options.metrics {
            metrics.watch_cloud_requests();
        }
        report(ServeEvent::Serving { program });
        // Webhooks go out from the runners too (campaigns run here, not in a window): each webhook is
        // held by one dispatcher at a time, so several runners never send an event twice.
        let webhooks = {
            let (app, stop) = (self.clone(), control.stop.clone());
            tokio::spawn(async move {
                if let Err(err) = app.run_webhook_deliveries(stop.cancelled()).await {
                    tracing::error!(error = %err.display_line(), "webhook deliveries could not start");
                }
            })
        };

        let mut summary = ServeSummary::default();
        let mut drivers = Drivers::new();
        let mut driving: HashSet<i64> = HashSet::new();
        let mut failed_at: HashMap<i64, Instant> = HashMap::new();
        let mut database_down = false;
        let mut scan = tokio::time::interval(options.scan_every);
        scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = scan.tick() => {
                    failed_at.retain(|_, at| at.elapsed() < AFTER_FAILURE);
                    let ids = match self.console.store().running_campaigns() {
                        Ok(ids) => {
                            if std::mem::take(&mut database_down) {
                                report(ServeEvent::DatabaseBack);
                            }
                            ids
                        }
                        Err(err) if self.database_unreachable() => {
                            if !std::mem::replace(&mut database_down, true) {
                                report(ServeEvent::DatabaseDown { error: err.into() });
                            }
                            continue;
                        }
                        Err(err) => return Err(err.into()),
                    };
                    for id in ids {
                        if driving.contains(&id) || failed_at.contains_key(&id) {
                            continue;
                        }
                        let name = self
                            .console
                            .store()
                            .campaign_header(id)
                            .map(|v| v.name)
                            .unwrap_or_default();
                        report(ServeEvent::PickedUp { campaign: id, name });
                        summary.picked_up += 1;
                        driving.insert(id);
                        let (console, control) = (self.console.clone(), control.clone());
                        drivers.spawn(async move {
                            (id, campaign::drive_with(console, id, &control).await)
                        });
                    }
                }
                Some(joined) = drivers.join_next() => {
                    let (id, outcome) = joined
                        .map_err(|e| ApiError::internal(format!("a campaign driver stopped: {e}")))?;
                    driving.remove(&id);
                    summary.ended += 1;
                    match outcome {
                        Some(Ok(view)) => report(ServeEvent::Ended {
                            campaign: Box::new(view),
                        }),
                        // The database went away under the runner: it is picked up as soon as the
                        // database is back, not after the failure pause.
                        Some(Err(error)) if self.database_unreachable() => {
                            let already_said = std::mem::replace(&mut database_down, true);
                            if !already_said {
                                report(ServeEvent::DatabaseDown { error });
                            }
                        }
                        Some(Err(error)) => {
                            failed_at.insert(id, Instant::now());
                            report(ServeEvent::Failed { campaign: id, error });
                        }
                        None => {}
                    }
                }
            }
        }

        report(ServeEvent::Stopping {
            campaigns: drivers.len(),
        });
        control.stop.cancel();
        // Each runner stops within its grace; the bound covers its last writes and the release too.
        let bound = tokio::time::Instant::now() + options.grace + Duration::from_secs(5);
        while !drivers.is_empty() {
            let joined = match tokio::time::timeout_at(bound, drivers.join_next()).await {
                Ok(Some(joined)) => joined,
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        drivers = drivers.len(),
                        "campaign drivers did not stop in time; their leases expire by themselves"
                    );
                    drivers.shutdown().await;
                    break;
                }
            };
            summary.stopped += 1;
            match joined {
                Ok((_, Some(Ok(view)))) => report(ServeEvent::Ended {
                    campaign: Box::new(view),
                }),
                Ok((id, Some(Err(error)))) => report(ServeEvent::Failed {
                    campaign: id,
                    error,
                }),
                Ok((_, None)) => {}
                Err(e) => tracing::warn!(error = %e, "a campaign driver stopped"),
            }
        }
        // The stop above ends the deliveries too; a delivery in flight gets its answer (or its timeout).
        if tokio::time::timeout(Duration::from_secs(15), webhooks)
            .await
            .is_err()
        {
            tracing::warn!("webhook deliveries did not stop in time");
        }
        if options.metrics.is_some() {
            ota_core::net::set_request_observer(None);
        }
        Ok(summary)
    }
}

impl App {
    /// Team mode: the shared database does not answer now (a desk's own file always does).
    fn database_unreachable(&self) -> bool {
        let store = self.console.store();
        store.is_shared() && store.ping().is_err()
    }
}

impl ServeEvent {
    /// The event as one plain line (what `otactl serve` prints to stderr).
    pub fn line(&self) -> String {
        match self {
            ServeEvent::Serving { program } => format!(
                "serving as {program} pid {} on host {}: running every running campaign until SIGTERM or SIGINT",
                std::process::id(),
                lease::host_name()
            ),
            ServeEvent::PickedUp { campaign, name } => {
                format!("campaign {campaign} ({name}): picked up")
            }
            ServeEvent::Following { campaign, runner } => format!(
                "campaign {campaign}: run by {}; following (taken over if its lease expires)",
                runner.describe()
            ),
            ServeEvent::Running {
                campaign,
                took_over_from: None,
            } => format!("campaign {campaign}: running it here"),
            ServeEvent::Running {
                campaign,
                took_over_from: Some(previous),
            } => format!(
                "campaign {campaign}: took it over from {}, whose lease had expired",
                previous.describe()
            ),
            ServeEvent::Ended { campaign } => {
                let c = &campaign.counts;
                let counts = format!(
                    "{} succeeded, {} failed, {} pending, {} in flight",
                    c.succeeded, c.failed, c.pending, c.in_flight
                );
                if campaign.state == CampaignState::Running {
                    format!(
                        "campaign {}: stopped here, still running ({counts}); its lease is released",
                        campaign.id
                    )
                } else {
                    format!(
                        "campaign {}: {} ({counts})",
                        campaign.id,
                        campaign.state.as_str()
                    )
                }
            }
            ServeEvent::Failed { campaign, error } => format!(
                "campaign {campaign}: its runner failed: {}; picked up again later",
                error.display_line()
            ),
            ServeEvent::DatabaseDown { error } => format!(
                "team database unreachable: {}; campaigns pause here and resume when it is back",
                error.display_line()
            ),
            ServeEvent::DatabaseBack => {
                "team database reachable again; resuming the running campaigns".to_string()
            }
            ServeEvent::Stopping { campaigns } => format!(
                "stopping: {campaigns} campaign driver(s) finish their requests in flight and release their leases"
            ),
        }
    }
}
