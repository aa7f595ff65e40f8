//! Everything the simulator knows, behind one lock: fleet, clock, faults, call log, sessions and OTA
//! runs. Handlers take the lock, do their (synchronous) work and let go; nothing awaits while holding it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::clock::SimClock;
use crate::faults::{FaultBook, FaultKind, FaultUses};
use crate::fleet::{Device, Fleet, SplitMix64};
use crate::log::CallLog;
use crate::{quectel, vicohome, SimConfig};

/// What the `low_battery` fault makes a device report.
pub const LOW_BATTERY_LEVEL: u8 = 10;

/// Random session tokens: unlike the fleet these must not be predictable, so the seed is mixed with
/// the start time.
pub struct TokenMint(SplitMix64);

impl TokenMint {
    fn new(seed: u64) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self(SplitMix64::new(seed ^ nanos.rotate_left(17)))
    }

    pub fn mint(&mut self, len: usize) -> String {
        self.0.chars(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            len,
        )
    }
}

pub struct World {
    pub fleet: Fleet,
    index: HashMap<String, usize>,
    pub clock: SimClock,
    pub faults: FaultBook,
    pub log: CallLog,
    pub vico: vicohome::VicoState,
    pub quectel: quectel::QuectelState,
    pub mint: TokenMint,
    /// OneNET upgrade tasks and packages.
    pub onenet: crate::onenet::OnenetState,
    /// Accepted update starts per device (`GET /_sim/starts`).
    pub starts: crate::publish::StartRecord,
    /// The fleet's seed, for deterministic packages.
    pub seed: u64,
    /// Session token lifetime in simulated ms.
    pub token_ttl_ms: f64,
}

impl World {
    pub fn new(config: &SimConfig) -> Self {
        let fleet = Fleet::generate(config.seed, config.devices);
        let index = fleet
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        let mut faults = FaultBook::default();
        for spec in &config.faults {
            faults.add(spec.clone());
        }
        let mut world = Self {
            fleet,
            index,
            clock: SimClock::new(config.time_scale),
            faults,
            log: CallLog::default(),
            vico: vicohome::VicoState::default(),
            quectel: quectel::QuectelState::default(),
            mint: TokenMint::new(config.seed),
            onenet: Default::default(),
            starts: Default::default(),
            seed: config.seed,
            token_ttl_ms: config.token_ttl.as_secs_f64() * 1000.0,
        };
        crate::onenet::seed_default_tasks(&mut world, config.seed);
        crate::quectel::sandbox::seed_sandbox_plans(&mut world);
        world
    }

    pub fn now_ms(&self) -> f64 {
        self.clock.now_ms()
    }

    pub fn device_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn device(&self, id: &str) -> Option<&Device> {
        self.device_index(id).map(|i| &self.fleet.devices[i])
    }

    pub fn device_mut(&mut self, id: &str) -> Option<&mut Device> {
        self.device_index(id)
            .map(move |i| &mut self.fleet.devices[i])
    }

    /// The device as its cloud reports it right now: `offline` and `low_battery` faults applied.
    pub fn view(&self, device: &Device, uses: &mut FaultUses) -> Device {
        let mut view = device.clone();
        if uses.probe(&self.faults, FaultKind::Offline, Some(&device.id)) {
            view.online = false;
        }
        if uses.probe(&self.faults, FaultKind::LowBattery, Some(&device.id)) {
            view.battery = view.battery.min(LOW_BATTERY_LEVEL);
            view.is_charging = false;
        }
        view
    }

    /// One device's view, using up the faults it hit.
    pub fn view_one(&mut self, id: &str) -> Option<Device> {
        let mut uses = FaultUses::default();
        let view = self.device(id).map(|d| self.view(d, &mut uses));
        uses.settle(&mut self.faults);
        view
    }

    /// Applies what simulated time has done since the last look (finished updates change firmware).
    pub fn settle(&mut self) {
        let now = self.now_ms();
        self.settle_at(now);
    }

    /// [`World::settle`] as of simulated time `now`, so one answer sees one instant.
    pub fn settle_at(&mut self, now: f64) {
        for (serial, firmware) in self.vico.settle(now) {
            if let Some(device) = self.device_mut(&serial) {
                device.firmware = firmware;
            }
        }
        crate::quectel::ota::settle(self, now);
        crate::onenet::settle_autonomous(self, now);
    }
}

/// The running simulator's shared state.
pub struct Sim {
    world: Mutex<World>,
    pub slow_delay: Duration,
}

impl Sim {
    pub fn new(config: &SimConfig) -> Self {
        Self {
            world: Mutex::new(World::new(config)),
            slow_delay: config.slow_delay,
        }
    }

    /// A handler that panicked cannot leave the world half-changed in a way worse than its answer
    /// failing, so a poisoned lock is taken over rather than taking the simulator down.
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}
