//! Which audit entries are webhook events, what each is called and what its JSON body says; and the
//! patterns a webhook chooses its events by (`campaign.*`, or exact names).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ApiError;
use crate::model::Cloud;
use crate::store::AuditEntry;

/// Every event a webhook can receive, in the order a campaign usually sends them.
pub const EVENTS: &[&str] = &[
    "campaign.started",
    "campaign.resumed",
    "campaign.wave_passed",
    "campaign.device_failures",
    "campaign.paused",
    "campaign.aborted",
    "campaign.completed",
    "campaign.cancelled",
];

/// The event an audit entry is, if it is one. Only what happened counts: a refused start or pause (an
/// entry with result `error` of a user's action) is no event. The runner's own decisions are audited in
/// the transaction that makes them: `campaign.wave_passed` as it moves past a wave, `campaign.wave_failed`
/// with `campaign.aborted` or `campaign.paused` when a wave's failures are over the threshold, and
/// `campaign.complete`.
pub fn event_name(action: &str, result: &str) -> Option<&'static str> {
    let ok = result == "ok";
    Some(match action {
        "campaign.start" if ok => "campaign.started",
        "campaign.resume" if ok => "campaign.resumed",
        "campaign.wave_passed" => "campaign.wave_passed",
        "campaign.wave_failed" => "campaign.device_failures",
        // The user's pause, and the threshold's.
        "campaign.pause" if ok => "campaign.paused",
        "campaign.paused" => "campaign.paused",
        "campaign.aborted" => "campaign.aborted",
        "campaign.complete" if ok => "campaign.completed",
        "campaign.cancel" if ok => "campaign.cancelled",
        _ => return None,
    })
}

/// The JSON body of a delivery (the README's "Webhooks" section documents it). Every key is always
/// present; those that do not apply are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// The event's id: the audit entry's, the same in every attempt (`X-OTA-Delivery`). Receivers drop
    /// an id they have seen (a delivery whose answer was lost is sent again).
    #[ts(type = "number")]
    pub id: i64,
    /// One of [`EVENTS`] (`X-OTA-Event`).
    pub event: String,
    /// When it happened, in milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub at: i64,
    #[ts(type = "number | null")]
    pub campaign_id: Option<i64>,
    /// The campaign's name.
    pub campaign: Option<String>,
    /// The user the audit log names (who started, paused … or whose runner decided).
    pub actor: String,
    pub cloud: Option<Cloud>,
    /// The wave it is about (1-based) and how many the campaign has: wave events, and a pause or abort
    /// the failure threshold caused.
    pub wave: Option<u32>,
    pub waves: Option<u32>,
    /// The audit log's words: counts and threshold of a wave, why the campaign stopped.
    pub detail: Option<String>,
}

impl WebhookEvent {
    /// The event an audit entry is, if any.
    pub fn from_audit(entry: &AuditEntry) -> Option<Self> {
        let event = event_name(&entry.action, &entry.result)?;
        let (campaign_id, campaign) = entry
            .target
            .as_deref()
            .map(campaign_of_target)
            .unwrap_or_default();
        let (wave, waves) = entry
            .detail
            .as_deref()
            .and_then(wave_of_detail)
            .map_or((None, None), |(w, n)| (Some(w), Some(n)));
        Some(Self {
            id: entry.id,
            event: event.to_string(),
            at: entry.at,
            campaign_id,
            campaign,
            actor: entry.actor.clone(),
            cloud: entry.cloud,
            wave,
            waves,
            detail: entry.detail.clone(),
        })
    }
}

/// The campaign's id and name in an audit target: "campaign #4 CG6 to 2.4.1" (or "campaign #4").
fn campaign_of_target(target: &str) -> (Option<i64>, Option<String>) {
    let Some(rest) = target.strip_prefix("campaign #") else {
        return (None, None);
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let id = rest[..digits].parse().ok();
    let name = rest[digits..]
        .strip_prefix(' ')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    (id, name)
}

/// "Wave 2 of 3 …" → (2, 3).
fn wave_of_detail(detail: &str) -> Option<(u32, u32)> {
    let mut words = detail.strip_prefix("Wave ")?.split([' ', ':']);
    let wave = words.next()?.parse().ok()?;
    if words.next()? != "of" {
        return None;
    }
    Some((wave, words.next()?.parse().ok()?))
}

/// The patterns as they are kept: each trimmed (commas also separate), duplicates dropped, in the order
/// given. A pattern is an event name, a prefix ending in `.*` that names at least one event
/// (`campaign.*`), or `*`; anything else is refused with the list of events.
pub fn normalize_patterns(raw: &[String]) -> Result<Vec<String>, ApiError> {
    let mut patterns: Vec<String> = Vec::new();
    for pattern in raw.iter().flat_map(|p| p.split(',')).map(str::trim) {
        if pattern.is_empty() || patterns.iter().any(|p| p == pattern) {
            continue;
        }
        if !EVENTS.iter().any(|event| pattern_matches(pattern, event)) {
            return Err(
                ApiError::validation(format!("“{pattern}” names no webhook event.")).with_hint(
                    format!(
                        "Use campaign.* for every campaign event, or some of: {}.",
                        EVENTS.join(", ")
                    ),
                ),
            );
        }
        patterns.push(pattern.to_string());
    }
    if patterns.is_empty() {
        return Err(ApiError::validation(
            "Choose the events to send, e.g. campaign.* (every campaign event).",
        ));
    }
    Ok(patterns)
}

/// Whether `pattern` takes `event`: the same name, `prefix.*` for every event under the prefix, or `*`.
pub fn pattern_matches(pattern: &str, event: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) if prefix.ends_with('.') => event.starts_with(prefix),
        Some(_) => false,
        None => pattern == event,
    }
}

/// Whether any of a webhook's patterns takes `event`.
pub fn wanted(patterns: &[String], event: &str) -> bool {
    patterns.iter().any(|p| pattern_matches(p, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, result: &str, target: &str, detail: Option<&str>) -> AuditEntry {
        AuditEntry {
            id: 7,
            at: 1_000,
            actor: "ana".into(),
            action: action.into(),
            cloud: Some(Cloud::Vicohome),
            target: Some(target.into()),
            result: result.into(),
            detail: detail.map(str::to_string),
        }
    }

    #[test]
    fn campaign_audit_entries_map_to_events_and_failed_user_actions_do_not() {
        assert_eq!(event_name("campaign.start", "ok"), Some("campaign.started"));
        assert_eq!(event_name("campaign.start", "error"), None);
        assert_eq!(event_name("campaign.pause", "ok"), Some("campaign.paused"));
        assert_eq!(
            event_name("campaign.paused", "error"),
            Some("campaign.paused")
        );
        assert_eq!(
            event_name("campaign.wave_failed", "error"),
            Some("campaign.device_failures")
        );
        assert_eq!(
            event_name("campaign.complete", "ok"),
            Some("campaign.completed")
        );
        for other in ["campaign.device.start", "campaign.create", "webhook.add"] {
            assert_eq!(event_name(other, "ok"), None, "{other}");
        }
        for (action, result) in [
            ("campaign.start", "ok"),
            ("campaign.resume", "ok"),
            ("campaign.wave_passed", "ok"),
            ("campaign.wave_failed", "error"),
            ("campaign.pause", "ok"),
            ("campaign.aborted", "error"),
            ("campaign.complete", "ok"),
            ("campaign.cancel", "ok"),
        ] {
            let name = event_name(action, result).unwrap();
            assert!(EVENTS.contains(&name), "{name}");
        }
    }

    #[test]
    fn the_payload_names_the_campaign_and_the_wave() {
        let e = WebhookEvent::from_audit(&entry(
            "campaign.wave_passed",
            "ok",
            "campaign #12 CG6 to 2.4.1",
            Some("Wave 2 of 3 passed: 8 succeeded, 0 failed (0.0 %, threshold 5 %)"),
        ))
        .unwrap();
        assert_eq!(e.event, "campaign.wave_passed");
        assert_eq!(
            (e.campaign_id, e.campaign.as_deref()),
            (Some(12), Some("CG6 to 2.4.1"))
        );
        assert_eq!((e.wave, e.waves), (Some(2), Some(3)));
        let json = serde_json::to_value(&e).unwrap();
        for key in [
            "id",
            "event",
            "at",
            "campaignId",
            "campaign",
            "actor",
            "cloud",
            "wave",
            "waves",
            "detail",
        ] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }

        let bare =
            WebhookEvent::from_audit(&entry("campaign.cancel", "ok", "campaign #3", None)).unwrap();
        assert_eq!((bare.campaign_id, bare.campaign), (Some(3), None));
        assert_eq!((bare.wave, bare.waves), (None, None));
        let failures = WebhookEvent::from_audit(&entry(
            "campaign.wave_failed",
            "error",
            "campaign #3 x",
            Some("Wave 1 of 2: 2 of 3 devices failed (66.7 %), above the 10 % threshold"),
        ))
        .unwrap();
        assert_eq!((failures.wave, failures.waves), (Some(1), Some(2)));
    }

    #[test]
    fn patterns_take_prefixes_and_exact_names_and_refuse_unknown_ones() {
        let all = normalize_patterns(&["campaign.*".into()]).unwrap();
        assert!(EVENTS.iter().all(|e| wanted(&all, e)));
        let some = normalize_patterns(&["campaign.completed, campaign.aborted".into()]).unwrap();
        assert_eq!(some, ["campaign.completed", "campaign.aborted"]);
        assert!(wanted(&some, "campaign.aborted"));
        assert!(!wanted(&some, "campaign.started"));
        assert!(wanted(
            &normalize_patterns(&["*".into()]).unwrap(),
            "campaign.paused"
        ));
        assert_eq!(
            normalize_patterns(&["campaign.*".into(), "campaign.*".into()]).unwrap(),
            ["campaign.*"]
        );
        for bad in ["campaign.finished", "device.*", "campaign*", ""] {
            let err = normalize_patterns(&[bad.into()]).unwrap_err();
            assert_eq!(err.code, crate::ErrorKind::Validation, "{bad}");
        }
    }
}
