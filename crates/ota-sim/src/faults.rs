//! Faults the tests switch on: each has a kind, a target (a device id, or "*" for every device and
//! call) and an optional count of requests it still applies to (none = until cleared).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SimError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// The device reports offline; calls about it fail as "device offline". OneNET device side: the
    /// download-token check and progress answer errno 17 and the download the one-byte `3`.
    Offline,
    /// The device reports 10 % battery and not charging.
    LowBattery,
    /// The answer comes 3 s (real time) late.
    Slow,
    /// HTTP 429 with `Retry-After: 1`.
    Http429,
    /// HTTP 503.
    Http5xx,
    /// HTTP 200 whose body is not JSON.
    MalformedBody,
    /// HTTP 200 with the real body cut in half (a OneNET package: the body ends halfway through its
    /// range, short of its Content-Length).
    TruncatedBody,
    /// Vicohome result -1.
    VicoGeneralError,
    /// Vicohome result -2.
    VicoInvalidParams,
    /// Vicohome result -102 on otastart.
    VicoNoUpdate,
    /// The camera's download stops at ~40 %: otaStatus 4, result -10401.
    DownloadFail,
    /// The camera's install fails: otaStatus 5, result -10402.
    InstallFail,
    /// The Vicohome token in use expires now (-1027); applies once unless a count is given.
    TokenExpired,
    /// A Quectel upgrade plan fails halfway on the device (deviceStatus 3); used up once per upgrade start.
    QuectelUpgradeFail,
    /// A OneNET package download drops its connection (the body ends in an error, not cleanly) once
    /// the package's midpoint (size/2) has been sent in that response; a response starting at or past
    /// the midpoint is cut after half of its own bytes, one ending before it is served whole and
    /// leaves the fault armed. One count per cut; once unless a count is given.
    DownloadCut,
    /// A OneNET package response has one byte flipped (the middle byte of the range served), so the
    /// package's MD5 does not match the task's; one count per response, until cleared by default.
    CorruptPackage,
    /// HTTP 200 whose JSON is valid but padded with 33 MiB of whitespace: a client must refuse to read
    /// an answer that large rather than buffer it.
    OversizedBody,
    /// OneNET's clock runs two hours ahead of the caller's: tokens that expire within two hours are
    /// refused as expired (errno 1). A condition, not an event: it lasts until cleared.
    ClockSkew,
    /// A camera's update never ends: after its download it stays "installing" (otaStatus 2, in progress)
    /// forever. Taken by an update start (one count per start).
    StuckInProgress,
    /// A camera's update reports complete (otaStatus 3, its target firmware named), but the camera keeps
    /// its old firmware: its details (selectsingledevice) still report it. Taken by an update start.
    VersionUnchanged,
}

const NAMES: &[(FaultKind, &str)] = &[
    (FaultKind::Offline, "offline"),
    (FaultKind::LowBattery, "low_battery"),
    (FaultKind::Slow, "slow"),
    (FaultKind::Http429, "http_429"),
    (FaultKind::Http5xx, "http_5xx"),
    (FaultKind::MalformedBody, "malformed_body"),
    (FaultKind::TruncatedBody, "truncated_body"),
    (FaultKind::VicoGeneralError, "vico_general_error"),
    (FaultKind::VicoInvalidParams, "vico_invalid_params"),
    (FaultKind::VicoNoUpdate, "vico_no_update"),
    (FaultKind::DownloadFail, "download_fail"),
    (FaultKind::InstallFail, "install_fail"),
    (FaultKind::TokenExpired, "token_expired"),
    (FaultKind::QuectelUpgradeFail, "quectel_upgrade_fail"),
    (FaultKind::DownloadCut, "download_cut"),
    (FaultKind::CorruptPackage, "corrupt_package"),
    (FaultKind::OversizedBody, "oversized_body"),
    (FaultKind::ClockSkew, "clock_skew"),
    (FaultKind::StuckInProgress, "stuck_in_progress"),
    (FaultKind::VersionUnchanged, "version_unchanged"),
];

impl FaultKind {
    pub fn all() -> impl Iterator<Item = FaultKind> {
        NAMES.iter().map(|(k, _)| *k)
    }

    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("unknown")
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(wanted))
            .map(|(k, _)| *k)
            .ok_or_else(|| {
                let known: Vec<&str> = NAMES.iter().map(|(_, n)| *n).collect();
                SimError::InvalidFault(format!(
                    "unknown fault kind {wanted:?}; known kinds: {}",
                    known.join(", ")
                ))
            })
    }
}

impl Serialize for FaultKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FaultKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Matches every device and every call.
pub const ANY_TARGET: &str = "*";

fn any_target() -> String {
    ANY_TARGET.to_string()
}

/// A fault to switch on: `POST /_sim/faults` body, or `--fault KIND:ID[:COUNT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    #[serde(default = "any_target")]
    pub target: String,
    pub kind: FaultKind,
    /// How many requests it applies to; `None` = until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl FaultSpec {
    pub fn new(kind: FaultKind, target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            kind,
            count: None,
        }
    }

    pub fn times(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }
}

impl FromStr for FaultSpec {
    type Err = SimError;

    /// `KIND`, `KIND:ID` or `KIND:ID:COUNT`; ID `*` (or absent) means every device.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        let kind: FaultKind = parts.next().unwrap_or_default().parse()?;
        let target = parts
            .next()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(ANY_TARGET)
            .to_string();
        let count = match parts.next() {
            Some(raw) => Some(raw.trim().parse::<u32>().map_err(|_| {
                SimError::InvalidFault(format!("fault count {raw:?} is not a whole number"))
            })?),
            None => None,
        };
        let spec = FaultSpec {
            target,
            kind,
            count,
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl FaultSpec {
    pub fn validate(&self) -> Result<(), SimError> {
        if self.count == Some(0) {
            return Err(SimError::InvalidFault(
                "a fault's count must be at least 1 (leave it out for \"until cleared\")".into(),
            ));
        }
        if self.target.trim().is_empty() {
            return Err(SimError::InvalidFault(
                "a fault needs a target: a device id or \"*\"".into(),
            ));
        }
        Ok(())
    }
}

/// A switched-on fault, as `GET /_sim/faults` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveFault {
    pub id: u64,
    pub target: String,
    pub kind: FaultKind,
    /// Requests it still applies to; absent = until cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl ActiveFault {
    fn matches(&self, kind: FaultKind, target: Option<&str>) -> bool {
        self.kind == kind && (self.target == ANY_TARGET || Some(self.target.as_str()) == target)
    }
}

#[derive(Debug, Default)]
pub struct FaultBook {
    active: Vec<ActiveFault>,
    next_id: u64,
}

impl FaultBook {
    pub fn add(&mut self, spec: FaultSpec) -> ActiveFault {
        self.next_id += 1;
        // A forced expiry that never stopped would expire every new token too, and a cut that never
        // stopped would keep a resuming download from ever finishing: once unless told.
        let count = match (spec.kind, spec.count) {
            (FaultKind::TokenExpired | FaultKind::DownloadCut, None) => Some(1),
            (_, count) => count,
        };
        let fault = ActiveFault {
            id: self.next_id,
            target: spec.target,
            kind: spec.kind,
            count,
        };
        self.active.push(fault.clone());
        fault
    }

    pub fn list(&self) -> &[ActiveFault] {
        &self.active
    }

    pub fn clear(&mut self) -> usize {
        std::mem::take(&mut self.active).len()
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.active.len();
        self.active.retain(|f| f.id != id);
        self.active.len() != before
    }

    /// The first active fault of `kind` for `target` (a device id, or none for calls that name no
    /// device, which only "*" faults reach), without using it up.
    pub fn probe(&self, kind: FaultKind, target: Option<&str>) -> Option<u64> {
        self.active
            .iter()
            .find(|f| f.matches(kind, target))
            .map(|f| f.id)
    }

    /// Counts one request against fault `id`, removing it when its count runs out.
    pub fn consume(&mut self, id: u64) {
        if let Some(pos) = self.active.iter().position(|f| f.id == id) {
            if let Some(left) = self.active[pos].count.as_mut() {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    self.active.remove(pos);
                }
            }
        }
    }

    /// Probe and, on a match, use it up once.
    pub fn hit(&mut self, kind: FaultKind, target: Option<&str>) -> bool {
        match self.probe(kind, target) {
            Some(id) => {
                self.consume(id);
                true
            }
            None => false,
        }
    }
}

/// Faults seen while answering one request that lists many devices: each is used up once per
/// request, however many devices it touched.
#[derive(Debug, Default)]
pub struct FaultUses(BTreeSet<u64>);

impl FaultUses {
    pub fn probe(&mut self, book: &FaultBook, kind: FaultKind, target: Option<&str>) -> bool {
        match book.probe(kind, target) {
            Some(id) => {
                self.0.insert(id);
                true
            }
            None => false,
        }
    }

    pub fn settle(self, book: &mut FaultBook) {
        for id in self.0 {
            book.consume(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in FaultKind::all() {
            assert_eq!(kind.as_str().parse::<FaultKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<FaultKind>(&json).unwrap(), kind);
        }
        assert_eq!(
            serde_json::to_string(&FaultKind::Http429).unwrap(),
            "\"http_429\""
        );
        assert!("nope".parse::<FaultKind>().is_err());
    }

    #[test]
    fn cli_specs() {
        let spec: FaultSpec = "offline:VC123".parse().unwrap();
        assert_eq!(spec, FaultSpec::new(FaultKind::Offline, "VC123"));
        let spec: FaultSpec = "http_429".parse().unwrap();
        assert_eq!(spec.target, "*");
        let spec: FaultSpec = "slow:*:2".parse().unwrap();
        assert_eq!(spec.count, Some(2));
        assert!("slow:*:0".parse::<FaultSpec>().is_err());
        assert!("slow:*:x".parse::<FaultSpec>().is_err());
    }

    #[test]
    fn counts_and_targets() {
        let mut book = FaultBook::default();
        book.add(FaultSpec::new(FaultKind::Http5xx, "A").times(2));
        assert!(!book.hit(FaultKind::Http5xx, Some("B")));
        assert!(!book.hit(FaultKind::Http5xx, None));
        assert!(book.hit(FaultKind::Http5xx, Some("A")));
        assert!(book.hit(FaultKind::Http5xx, Some("A")));
        assert!(!book.hit(FaultKind::Http5xx, Some("A")));
        book.add(FaultSpec::new(FaultKind::Slow, "*"));
        for _ in 0..5 {
            assert!(book.hit(FaultKind::Slow, None));
        }
        assert_eq!(book.clear(), 1);
        let expiry = book.add(FaultSpec::new(FaultKind::TokenExpired, "*"));
        assert_eq!(expiry.count, Some(1));
        let cut = book.add(FaultSpec::new(FaultKind::DownloadCut, "*"));
        assert_eq!(cut.count, Some(1));
        let corrupt = book.add(FaultSpec::new(FaultKind::CorruptPackage, "*"));
        assert_eq!(corrupt.count, None);
    }

    #[test]
    fn a_listing_uses_a_fault_once() {
        let mut book = FaultBook::default();
        book.add(FaultSpec::new(FaultKind::Offline, "*").times(2));
        let mut uses = FaultUses::default();
        assert!(uses.probe(&book, FaultKind::Offline, Some("a")));
        assert!(uses.probe(&book, FaultKind::Offline, Some("b")));
        uses.settle(&mut book);
        assert_eq!(book.list()[0].count, Some(1));
    }
}
