//! Campaign leases: one runner at a time per campaign, across processes.
//!
//! A runner takes a campaign's lease (holder, host, pid, program, expiry) before it claims or starts any
//! device, and only while it holds it: every write it makes checks and renews the lease in the same
//! transaction ([`Fence`]), and a device task sends a start only while the lease is known to be valid for
//! a margin longer. A runner that was killed stops renewing; another takes the campaign over once the
//! lease expired, and recovers the devices left in flight by reading each one's status before sending
//! anything. A runner that lost its lease (paused past its expiry, e.g. by SIGSTOP) finds out at its next
//! write or renewal and stops without writing or starting anything; until then its starts are held back
//! by the margin.
//!
//! What a lease cannot fence: a start request that leaves the process more than the margin after its
//! check (the process frozen in that instant). A cloud API with fencing tokens would close that gap;
//! none of the three offers one.
//!
//! SQLite and PostgreSQL keep leases alike: one row per campaign, taken with a conditional
//! `INSERT … ON CONFLICT DO UPDATE … WHERE`, checked with a conditional `UPDATE`. On PostgreSQL (runners
//! on several machines) expiry is judged by the server's `now()` instead of the runner's clock, so
//! machines with skewed clocks agree on it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::model::CampaignLease;
use crate::error::{ApiError, CoreError, ErrorKind};
use crate::model::now_ms;
use crate::store::Store;

/// How long a lease lasts without renewal: how long a killed runner's campaign waits before another runner
/// takes it over. Tests shorten it with `OTA_CONSOLE_CAMPAIGN_LEASE_MS`.
pub const LEASE_PERIOD: Duration = Duration::from_secs(15);
/// The environment variable that overrides [`LEASE_PERIOD`] (milliseconds), for tests.
pub const LEASE_PERIOD_ENV: &str = "OTA_CONSOLE_CAMPAIGN_LEASE_MS";
/// Shortest period accepted from the environment (renewals come every quarter period).
const MIN_PERIOD: Duration = Duration::from_millis(300);

/// The lease period in force: [`LEASE_PERIOD`] unless `OTA_CONSOLE_CAMPAIGN_LEASE_MS` says otherwise.
pub fn period() -> Duration {
    static PERIOD: OnceLock<Duration> = OnceLock::new();
    *PERIOD.get_or_init(|| {
        std::env::var(LEASE_PERIOD_ENV)
            .ok()
            .and_then(|ms| ms.trim().parse::<u64>().ok())
            .map(|ms| Duration::from_millis(ms).max(MIN_PERIOD))
            .unwrap_or(LEASE_PERIOD)
    })
}

/// A start is sent only while the lease is valid for at least this share of the period longer: another
/// runner takes over no earlier than the full period after the last renewal.
fn margin(period: Duration) -> Duration {
    period / 3
}

/// The period minus the margin, in milliseconds.
fn valid_ms(period: Duration) -> i64 {
    period.saturating_sub(margin(period)).as_millis() as i64
}

/// How often a runner renews when nothing else renewed the lease (every fenced write renews it too).
fn renew_every(period: Duration) -> Duration {
    period / 5
}

/// How often a runner that follows another checks whether the lease came free.
pub(crate) fn follow_every(period: Duration) -> Duration {
    (period / 10).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// Who a runner is, as its lease row records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerIdentity {
    /// Random per runner: two runners of one process, or a pid reused after a crash, never look alike.
    pub holder: String,
    pub host: String,
    pub pid: u32,
    pub program: String,
}

impl RunnerIdentity {
    /// A new runner of this process.
    pub fn new() -> Self {
        Self {
            holder: random_holder(),
            host: host_name().to_string(),
            pid: std::process::id(),
            program: program_name().to_string(),
        }
    }
}

impl Default for RunnerIdentity {
    fn default() -> Self {
        Self::new()
    }
}

impl CampaignLease {
    /// Held by a runner of this very process.
    pub fn is_this_process(&self) -> bool {
        self.pid == std::process::id() && self.host == host_name()
    }
}

/// Proof of holding a campaign's lease for one write transaction: the store checks it (the holder is
/// still `holder` and the lease has not expired at `now`) and extends the lease to `expires_at` in the
/// same transaction as the write, or writes nothing. On PostgreSQL the server's clock stands in for `now`
/// (the lease is extended to its time plus `expires_at - now`).
#[derive(Debug, Clone, Copy)]
pub struct Fence<'a> {
    pub campaign_id: i64,
    pub holder: &'a str,
    /// Milliseconds since the epoch, read before the transaction began.
    pub now: i64,
    pub expires_at: i64,
}

/// What taking a lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseTake {
    /// Ours now; `previous` is the runner whose expired lease this one replaced (a takeover).
    Taken { previous: Option<CampaignLease> },
    /// Another runner holds it until its expiry.
    HeldBy(CampaignLease),
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another runner holds the lease now, or it expired: this runner must stop.
    #[error("campaign #{campaign_id}: this runner no longer holds the campaign's lease")]
    Lost { campaign_id: i64 },
    #[error(transparent)]
    Store(#[from] CoreError),
}

impl From<LeaseError> for ApiError {
    fn from(err: LeaseError) -> Self {
        match err {
            LeaseError::Lost { campaign_id } => ApiError::new(
                ErrorKind::Conflict,
                format!("Campaign #{campaign_id} is run by another process now."),
            ),
            LeaseError::Store(store) => store.into(),
        }
    }
}

/// This runner's view of a lease it took: when it was last known valid, and whether it was lost.
struct Local {
    /// Starts may be sent until then (the last renewal plus the period minus the margin), by the
    /// monotonic clock and by the wall clock (Unix ms): the monotonic one stands still while the machine
    /// sleeps, the stored expiry does not; the wall clock may be set back.
    send_until: Instant,
    send_until_wall: i64,
    last_renewed: Instant,
    lost: bool,
}

/// A lease this runner took. Shared by the coordinator, its renewal timer and its device tasks.
pub(crate) struct HeldLease {
    store: Store,
    campaign_id: i64,
    me: RunnerIdentity,
    period: Duration,
    local: Mutex<Local>,
    /// The runner whose expired lease this one replaced when it was taken (a takeover).
    took_over_from: Option<CampaignLease>,
}

impl HeldLease {
    /// Takes the lease of `campaign_id` if it is free or expired. `actor` is who the audit log names for
    /// a takeover (recorded in the same transaction).
    pub(crate) fn take(
        store: &Store,
        campaign_id: i64,
        me: &RunnerIdentity,
        period: Duration,
        actor: &str,
    ) -> Result<Result<Self, CampaignLease>, CoreError> {
        // A cheap read first: followers poll, and only a free or expired lease is worth a write.
        if let Some(held) = store.campaign_lease(campaign_id, now_ms())? {
            if held.holder != me.holder {
                return Ok(Err(held));
            }
        }
        let started = Instant::now();
        let now = now_ms();
        match store.take_campaign_lease(campaign_id, me, now, period, actor)? {
            LeaseTake::HeldBy(held) => Ok(Err(held)),
            LeaseTake::Taken { previous } => {
                if let Some(previous) = &previous {
                    tracing::warn!(
                        campaign = campaign_id,
                        from = %previous.describe(),
                        "took over a campaign whose runner stopped renewing its lease"
                    );
                }
                Ok(Ok(Self {
                    store: store.clone(),
                    campaign_id,
                    me: me.clone(),
                    period,
                    local: Mutex::new(Local {
                        send_until: started + period.saturating_sub(margin(period)),
                        send_until_wall: now + valid_ms(period),
                        last_renewed: started,
                        lost: false,
                    }),
                    took_over_from: previous,
                }))
            }
        }
    }

    pub(crate) fn campaign_id(&self) -> i64 {
        self.campaign_id
    }

    /// The runner whose expired lease this one took over, if it was a takeover.
    pub(crate) fn took_over_from(&self) -> Option<&CampaignLease> {
        self.took_over_from.as_ref()
    }

    fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        // Plain data: a panic elsewhere cannot leave it half-updated.
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one write under the lease: `write` gets the fence its transaction must check. A write that
    /// went through renewed the lease; one that found it lost marks this runner as stopped.
    pub(crate) fn write<T>(
        &self,
        write: impl FnOnce(&Fence<'_>) -> Result<T, LeaseError>,
    ) -> Result<T, LeaseError> {
        if self.local().lost {
            return Err(LeaseError::Lost {
                campaign_id: self.campaign_id,
            });
        }
        let started = Instant::now();
        let now = now_ms();
        let fence = Fence {
            campaign_id: self.campaign_id,
            holder: &self.me.holder,
            now,
            expires_at: now.saturating_add(self.period.as_millis() as i64),
        };
        let result = write(&fence);
        let mut local = self.local();
        match &result {
            Ok(_) => {
                // Measured from before the transaction: the stored expiry is at least this far out.
                let until = started + self.period.saturating_sub(margin(self.period));
                local.send_until = local.send_until.max(until);
                local.send_until_wall = local.send_until_wall.max(now + valid_ms(self.period));
                local.last_renewed = local.last_renewed.max(started);
            }
            Err(LeaseError::Lost { .. }) => local.lost = true,
            Err(LeaseError::Store(_)) => {}
        }
        result
    }

    /// Renews the lease now.
    pub(crate) fn renew(&self) -> Result<(), LeaseError> {
        self.write(|fence| self.store.renew_campaign_lease(fence))
    }

    /// Renews the lease unless a write did so recently.
    pub(crate) fn renew_if_due(&self) -> Result<(), LeaseError> {
        let due = self.local().last_renewed.elapsed() >= renew_every(self.period);
        if due {
            self.renew()
        } else {
            Ok(())
        }
    }

    /// Waits until a start may be sent: the lease is known valid for the margin longer. Fails once the
    /// lease is lost (the runner is stopping; the device's row stays for the next holder to recover).
    pub(crate) async fn ready_to_send(&self) -> Result<(), ApiError> {
        loop {
            {
                let local = self.local();
                if local.lost {
                    return Err(LeaseError::Lost {
                        campaign_id: self.campaign_id,
                    }
                    .into());
                }
                if Instant::now() < local.send_until && now_ms() < local.send_until_wall {
                    return Ok(());
                }
            }
            // Not renewed in time (a slow database): the coordinator or the timer renews it, or finds it
            // lost.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Renews the lease every few seconds even when the coordinator's rounds are slow; stops when the
    /// lease is lost. Abort the handle when the run ends.
    pub(crate) fn spawn_renewals(self: &std::sync::Arc<Self>) -> tokio::task::JoinHandle<()> {
        let lease = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(renew_every(lease.period)).await;
                match lease.renew_if_due() {
                    Err(LeaseError::Lost { .. }) => return,
                    Err(LeaseError::Store(err)) => {
                        tracing::warn!(campaign = lease.campaign_id, error = %err, "could not renew the campaign's lease");
                    }
                    Ok(()) => {}
                }
            }
        })
    }

    /// Gives the lease up (the run ended, or it was stopped and its device tasks have ended), so another
    /// runner need not wait for it to expire. Fenced by the holder: a lease another runner took meanwhile
    /// is left alone.
    pub(crate) fn release(&self) {
        if let Err(err) = self
            .store
            .release_campaign_lease(self.campaign_id, &self.me.holder)
        {
            tracing::warn!(campaign = self.campaign_id, error = %err, "could not release the campaign's lease; it expires by itself");
        }
    }
}

fn random_holder() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // std's RandomState is seeded from the OS's random source; hashing the pid, the time and a counter
    // with two of them gives 128 bits no other runner shares.
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        *half = hasher.finish();
    }
    format!("{:016x}{:016x}", halves[0], halves[1])
}

/// This machine's name, as `hostname` prints it.
pub fn host_name() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let read = || -> Option<String> {
            if cfg!(windows) {
                return std::env::var("COMPUTERNAME").ok();
            }
            if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
                return Some(name);
            }
            let out = std::process::Command::new("hostname").output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        };
        read()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "unknown".to_string())
    })
}

/// "otactl", "OTA Console" (the app's binary is `ota-console`), or this executable's name.
pub fn program_name() -> &'static str {
    static PROGRAM: OnceLock<String> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let stem = std::env::current_exe().ok().and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        });
        match stem.as_deref() {
            None | Some("ota-console") | Some("ota_console") => "OTA Console".to_string(),
            Some(name) => name.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runners_get_distinct_holders_and_name_this_process() {
        let (a, b) = (RunnerIdentity::new(), RunnerIdentity::new());
        assert_ne!(a.holder, b.holder);
        assert_eq!(a.holder.len(), 32);
        assert_eq!(a.pid, std::process::id());
        let lease = CampaignLease {
            holder: a.holder.clone(),
            host: a.host.clone(),
            pid: a.pid,
            program: "otactl".into(),
            acquired_at: 0,
            expires_at: 0,
        };
        assert!(lease.is_this_process());
        assert_eq!(
            lease.describe(),
            format!("otactl pid {} on host {}", a.pid, a.host)
        );
        let elsewhere = CampaignLease {
            pid: a.pid.wrapping_add(1),
            ..lease
        };
        assert!(!elsewhere.is_this_process());
    }
}
