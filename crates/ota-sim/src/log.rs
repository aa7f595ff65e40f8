//! The call log: every cloud call the simulator served, including the ones a fault failed, so tests
//! can count what a client really sent.

use std::collections::VecDeque;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::fleet::Cloud;

/// Oldest entries are dropped beyond this, so a long-running simulator stays small.
const MAX_ENTRIES: usize = 100_000;

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A Vicohome otastart for a camera that is already updating (answered with its status).
    AlreadyInProgress,
    /// The cloud's own error code (Vicohome result, Quectel code, OneNET errno).
    Error(i64),
    /// An HTTP error status from a fault.
    Http(u16),
    MalformedBody,
    TruncatedBody,
    /// A valid answer padded past what any client should read.
    OversizedBody,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::AlreadyInProgress => f.write_str("already_in_progress"),
            Outcome::Error(code) => write!(f, "error:{code}"),
            Outcome::Http(status) => write!(f, "http_{status}"),
            Outcome::MalformedBody => f.write_str("malformed_body"),
            Outcome::TruncatedBody => f.write_str("truncated_body"),
            Outcome::OversizedBody => f.write_str("oversized_body"),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Increases by one per call, also across `DELETE /_sim/log`.
    pub seq: u64,
    /// Real time, ms since the Unix epoch.
    pub at_ms: u64,
    /// Simulated ms since the simulator started.
    pub sim_ms: u64,
    pub cloud: Cloud,
    /// The route, e.g. "/device/otastart/".
    pub endpoint: String,
    /// The device (or OneNET product) the call named.
    pub target: Option<String>,
    /// "ok", "already_in_progress", "error:<code>", "http_<status>", "malformed_body", "truncated_body".
    pub outcome: Outcome,
    /// The `slow` fault delayed the answer.
    pub slow: bool,
}

#[derive(Debug, Default)]
pub struct CallLog {
    entries: VecDeque<LogEntry>,
    next_seq: u64,
}

/// What a call was, for the log.
#[derive(Debug, Clone)]
pub struct CallInfo {
    pub cloud: Cloud,
    pub endpoint: &'static str,
    pub target: Option<String>,
}

impl CallLog {
    pub fn record(&mut self, call: &CallInfo, outcome: Outcome, slow: bool, sim_ms: f64) {
        self.next_seq += 1;
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(LogEntry {
            seq: self.next_seq,
            at_ms: crate::clock::unix_ms(),
            sim_ms: sim_ms.max(0.0) as u64,
            cloud: call.cloud,
            endpoint: call.endpoint.to_string(),
            target: call.target.clone(),
            outcome,
            slow,
        });
    }

    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries.iter().cloned().collect()
    }

    pub fn clear(&mut self) -> usize {
        std::mem::take(&mut self.entries).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_well() {
        assert_eq!(Outcome::Error(-101).to_string(), "error:-101");
        assert_eq!(Outcome::Http(429).to_string(), "http_429");
        assert_eq!(
            serde_json::to_string(&Outcome::AlreadyInProgress).unwrap(),
            "\"already_in_progress\""
        );
    }

    #[test]
    fn seq_keeps_growing_after_clear() {
        let mut log = CallLog::default();
        let call = CallInfo {
            cloud: Cloud::Vicohome,
            endpoint: "/account/login",
            target: None,
        };
        log.record(&call, Outcome::Ok, false, 0.0);
        assert_eq!(log.clear(), 1);
        log.record(&call, Outcome::Ok, false, 0.0);
        assert_eq!(log.entries()[0].seq, 2);
    }
}
