//! The campaign's rules as pure functions: wave sizes, settings checks, the maintenance window, retry
//! backoff, the wave threshold, and the rules a campaign is created with (approval, bake, manual gate,
//! device timeout). Tested without a clock or a cloud.

use super::model::{
    CampaignRules, CampaignSettings, CampaignState, CampaignWait, MaintenanceWindow, RetryPolicy,
    WaveGate,
};
use crate::error::{ApiError, ErrorKind};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// Checks what a user entered; the message names the field.
pub fn validate(settings: &CampaignSettings) -> Result<(), ApiError> {
    let waves = &settings.waves;
    if waves.is_empty() || waves.len() > 10 {
        return Err(ApiError::validation(
            "A campaign has 1 to 10 waves (e.g. 1 %, 10 %, 100 %).",
        ));
    }
    let mut previous = 0.0;
    for (i, &p) in waves.iter().enumerate() {
        if !p.is_finite() || p <= previous || p > 100.0 {
            return Err(ApiError::validation(format!(
                "Wave {} must cover more than wave {} did and at most 100 % (got {p} %).",
                i + 1,
                i
            )));
        }
        previous = p;
    }
    if (previous - 100.0).abs() > f64::EPSILON {
        return Err(ApiError::validation(
            "The last wave must reach 100 % of the devices.",
        ));
    }
    if settings.concurrency == 0 || settings.concurrency > 2_000 {
        return Err(ApiError::validation(
            "Concurrency is the number of devices updating at once: 1 to 2000.",
        ));
    }
    if !settings.requests_per_second.is_finite()
        || settings.requests_per_second < 0.1
        || settings.requests_per_second > 10_000.0
    {
        return Err(ApiError::validation(
            "The request rate must be between 0.1 and 10000 requests a second.",
        ));
    }
    if !settings.failure_threshold_percent.is_finite()
        || !(0.0..=100.0).contains(&settings.failure_threshold_percent)
    {
        return Err(ApiError::validation(
            "The failure threshold is a percentage from 0 to 100.",
        ));
    }
    if settings.retry.max_retries > 10 {
        return Err(ApiError::validation("At most 10 automatic retries."));
    }
    if settings.min_battery > 100 {
        return Err(ApiError::validation("The minimum battery is a percentage."));
    }
    if let Some(window) = &settings.window {
        if window.days.iter().any(|d| *d > 6) {
            return Err(ApiError::validation(
                "Window days are 0 (Monday) to 6 (Sunday).",
            ));
        }
        if window.start_minute >= 1440 || window.end_minute >= 1440 {
            return Err(ApiError::validation(
                "Window times are within a day (00:00–23:59).",
            ));
        }
        if window.start_minute == window.end_minute {
            return Err(ApiError::validation(
                "The maintenance window opens and closes at the same time; it would never be open.",
            ));
        }
        if window.utc_offset_minutes.abs() > 14 * 60 {
            return Err(ApiError::validation(
                "The window's UTC offset is off the clock.",
            ));
        }
    }
    Ok(())
}

/// How many of `eligible` devices each wave gets (cumulative percentages, rounded up, at least one
/// device in a wave while any are left).
pub fn wave_sizes(eligible: u32, waves: &[f64]) -> Vec<u32> {
    let mut sizes = Vec::with_capacity(waves.len());
    let mut assigned = 0u32;
    for (i, &p) in waves.iter().enumerate() {
        let mut upto = if i + 1 == waves.len() {
            eligible
        } else {
            ((f64::from(eligible) * p / 100.0).ceil() as u32).min(eligible)
        };
        if upto <= assigned && assigned < eligible {
            upto = assigned + 1;
        }
        sizes.push(upto - assigned);
        assigned = upto;
    }
    sizes
}

fn local_ms(window: &MaintenanceWindow, utc_ms: i64) -> i64 {
    utc_ms + i64::from(window.utc_offset_minutes) * MINUTE_MS
}

/// 0 = Monday (1970-01-01 was a Thursday).
fn weekday(local_ms: i64) -> u8 {
    ((local_ms.div_euclid(DAY_MS) + 3).rem_euclid(7)) as u8
}

/// Whether the window is open at `utc_ms`. A window crossing midnight belongs to the day it opens.
pub fn window_open(window: &MaintenanceWindow, utc_ms: i64) -> bool {
    let local = local_ms(window, utc_ms);
    let minute = (local.rem_euclid(DAY_MS) / MINUTE_MS) as u16;
    let day = weekday(local);
    let day_allowed = |d: u8| window.days.is_empty() || window.days.contains(&d);
    let (start, end) = (window.start_minute, window.end_minute);
    if start < end {
        day_allowed(day) && (start..end).contains(&minute)
    } else {
        (minute >= start && day_allowed(day)) || (minute < end && day_allowed((day + 6) % 7))
    }
}

/// When the window next opens at or after `utc_ms` (itself when open now); searched minute by minute's
/// boundaries over the next eight days.
pub fn next_opening(window: &MaintenanceWindow, utc_ms: i64) -> Option<i64> {
    if window_open(window, utc_ms) {
        return Some(utc_ms);
    }
    let local = local_ms(window, utc_ms);
    let day_start_local = local - local.rem_euclid(DAY_MS);
    (0..9)
        .map(|d| day_start_local + d * DAY_MS + i64::from(window.start_minute) * MINUTE_MS)
        .map(|local_open| local_open - i64::from(window.utc_offset_minutes) * MINUTE_MS)
        .find(|&utc| utc > utc_ms && window_open(window, utc))
}

/// When a bake that began when a wave was done (at `wave_done_at`) ends: the wave passes then at the
/// earliest.
pub fn bake_ends(rules: &CampaignRules, wave_done_at: i64) -> i64 {
    wave_done_at + i64::from(rules.bake_secs) * 1000
}

/// The earliest moment at or after `now_ms` at which the runner may start devices of a wave: not before
/// the campaign's start time, not before the previous wave's bake ended (when it ended at
/// `previous_wave_done_ms`; `None` for the first wave, or when the runner already moved on, which it does
/// only after the bake), and only inside the maintenance window. `None`: the window never opens.
///
/// The runner starts devices only when this answers `now_ms` itself, and `campaign plan` shows what it
/// answers, so the plan is what the campaign does.
pub fn earliest_start(
    settings: &CampaignSettings,
    rules: &CampaignRules,
    now_ms: i64,
    previous_wave_done_ms: Option<i64>,
) -> Option<i64> {
    let mut at = now_ms;
    if let Some(start_at) = settings.start_at {
        at = at.max(start_at);
    }
    if let Some(done) = previous_wave_done_ms {
        at = at.max(bake_ends(rules, done));
    }
    match &settings.window {
        Some(window) => next_opening(window, at),
        None => Some(at),
    }
}

/// Whether the runner may start devices at `now_ms` ([`earliest_start`] is now).
pub fn starts_allowed(settings: &CampaignSettings, rules: &CampaignRules, now_ms: i64) -> bool {
    earliest_start(settings, rules, now_ms, None) == Some(now_ms)
}

/// When a device that failed its `attempts`-th attempt with `kind` should try again; `None` when the
/// policy says it stays failed.
pub fn retry_at(policy: &RetryPolicy, attempts: u32, kind: ErrorKind, now_ms: i64) -> Option<i64> {
    if attempts > policy.max_retries || !policy.retry_on.contains(&kind) {
        return None;
    }
    let doublings = attempts.saturating_sub(1).min(16);
    let wait_ms = i64::from(policy.backoff_secs) * 1000 * (1i64 << doublings);
    Some(now_ms + wait_ms)
}

/// Whether a finished wave passed: its failed share of the finished devices is at most the threshold.
pub fn wave_passed(succeeded: u32, failed: u32, threshold_percent: f64) -> bool {
    failure_percent(succeeded, failed) <= threshold_percent + 1e-9
}

pub fn failure_percent(succeeded: u32, failed: u32) -> f64 {
    let done = succeeded + failed;
    if done == 0 {
        0.0
    } else {
        f64::from(failed) * 100.0 / f64::from(done)
    }
}

/// Longest bake and device timeout a campaign accepts: 30 days.
const MAX_RULE_SECS: u32 = 30 * 24 * 3600;

/// Checks the rules a user chose; the message names the rule.
pub fn validate_rules(rules: &CampaignRules) -> Result<(), ApiError> {
    if rules.bake_secs > MAX_RULE_SECS {
        return Err(ApiError::validation("The bake time is at most 30 days."));
    }
    match rules.device_timeout_secs {
        Some(0) => Err(ApiError::validation(
            "The device timeout must be at least a second (leave it out for none).",
        )),
        Some(t) if t > MAX_RULE_SECS => Err(ApiError::validation(
            "The device timeout is at most 30 days.",
        )),
        _ => Ok(()),
    }
}

/// The state a campaign is in, from what is stored: a ready campaign that requires approval and has none
/// is awaiting approval (and cannot start).
pub fn effective_state(
    stored: CampaignState,
    rules: &CampaignRules,
    approved: bool,
) -> CampaignState {
    if stored == CampaignState::Ready && rules.require_approval && !approved {
        CampaignState::AwaitingApproval
    } else {
        stored
    }
}

/// Whether a wave that just ended within its threshold is held before the campaign moves on (so the
/// runner records when it ended): a bake, or a manual gate before a next wave.
pub fn holds_after_wave(rules: &CampaignRules, last_wave: bool) -> bool {
    rules.bake_secs > 0 || (rules.gate == WaveGate::Manual && !last_wave)
}

/// What holds a running campaign whose current wave ended (at `wave_done_at`) within its threshold:
/// its bake until it has been complete `bake_secs`, then the manual gate until the next wave is
/// approved. `None`: it may move on (or its wave has not ended).
pub fn wave_hold(
    rules: &CampaignRules,
    current_wave: u32,
    wave_count: u32,
    wave_done_at: Option<i64>,
    wave_approved: u32,
    now_ms: i64,
) -> Option<CampaignWait> {
    let done_at = wave_done_at?;
    let until = bake_ends(rules, done_at);
    if rules.bake_secs > 0 && now_ms < until {
        return Some(CampaignWait::Baking {
            wave: current_wave,
            until,
        });
    }
    let next = current_wave + 1;
    (rules.gate == WaveGate::Manual && next < wave_count && wave_approved < next)
        .then_some(CampaignWait::AwaitingWaveApproval { wave: next })
}

/// Whether a device started at `started_at` (Unix ms) and still in progress at `now_ms` has run out of
/// its campaign's device timeout.
pub fn device_timed_out(rules: &CampaignRules, started_at: i64, now_ms: i64) -> bool {
    rules
        .device_timeout_secs
        .is_some_and(|t| now_ms - started_at >= i64::from(t) * 1000)
}

/// "90s", "30m", "2h", "1d" (the largest unit that divides it; "0s" for none).
pub fn format_duration(secs: u64) -> String {
    match secs {
        0 => "0s".to_string(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Reads a duration as a user types it: a whole number and a unit, `s`, `m`, `h` or `d` ("90s", "30m",
/// "2h", "1d"); at most 30 days.
pub fn parse_duration(text: &str) -> Result<u32, ApiError> {
    let text = text.trim();
    let wrong = || {
        ApiError::validation(format!(
            "{text:?} is not a duration: a whole number and s, m, h or d (e.g. 90s, 30m, 2h, 1d)."
        ))
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(wrong)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| wrong())?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(wrong()),
    };
    number
        .checked_mul(unit_secs)
        .filter(|s| *s <= u64::from(MAX_RULE_SECS))
        .map(|s| s as u32)
        .ok_or_else(|| ApiError::validation(format!("{text} is longer than 30 days.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_typed() {
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration("30m").unwrap(), 1_800);
        assert_eq!(parse_duration("2h").unwrap(), 7_200);
        assert_eq!(parse_duration("1d").unwrap(), 86_400);
        for bad in [
            "",
            "m",
            "2",
            "2 h",
            "1.5h",
            "-1h",
            "2w",
            "31d",
            "99999999999999999999s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format_duration(1_800), "30m");
        assert_eq!(format_duration(90), "90s");
        assert_eq!(format_duration(86_400), "1d");
    }

    #[test]
    fn a_wave_is_held_by_its_bake_then_by_the_gate() {
        let rules = CampaignRules {
            bake_secs: 60,
            gate: WaveGate::Manual,
            ..CampaignRules::default()
        };
        assert_eq!(wave_hold(&rules, 0, 3, None, 0, 0), None, "not ended");
        assert_eq!(
            wave_hold(&rules, 0, 3, Some(1_000), 0, 30_000),
            Some(CampaignWait::Baking {
                wave: 0,
                until: 61_000
            })
        );
        assert_eq!(
            wave_hold(&rules, 0, 3, Some(1_000), 0, 61_000),
            Some(CampaignWait::AwaitingWaveApproval { wave: 1 })
        );
        assert_eq!(wave_hold(&rules, 0, 3, Some(1_000), 1, 61_000), None);
        assert_eq!(
            wave_hold(&rules, 2, 3, Some(1_000), 0, 61_000),
            None,
            "last wave"
        );
        assert!(holds_after_wave(&rules, true));
        assert!(!holds_after_wave(&CampaignRules::default(), false));
    }

    #[test]
    fn approval_and_timeouts() {
        let rules = CampaignRules {
            require_approval: true,
            device_timeout_secs: Some(10),
            ..CampaignRules::default()
        };
        assert_eq!(
            effective_state(CampaignState::Ready, &rules, false),
            CampaignState::AwaitingApproval
        );
        assert_eq!(
            effective_state(CampaignState::Ready, &rules, true),
            CampaignState::Ready
        );
        assert!(!device_timed_out(&rules, 0, 9_999));
        assert!(device_timed_out(&rules, 0, 10_000));
        assert!(!device_timed_out(&CampaignRules::default(), 0, i64::MAX));
    }

    #[test]
    fn waves_split_every_device_once() {
        assert_eq!(wave_sizes(2000, &[1.0, 10.0, 100.0]), vec![20, 180, 1800]);
        assert_eq!(wave_sizes(10, &[1.0, 10.0, 100.0]), vec![1, 1, 8]);
        assert_eq!(wave_sizes(2, &[1.0, 10.0, 100.0]), vec![1, 1, 0]);
        assert_eq!(wave_sizes(0, &[50.0, 100.0]), vec![0, 0]);
        assert_eq!(wave_sizes(7, &[100.0]), vec![7]);
        for n in [1u32, 3, 99, 101, 12345] {
            assert_eq!(
                wave_sizes(n, &[1.0, 5.0, 50.0, 100.0]).iter().sum::<u32>(),
                n
            );
        }
    }

    #[test]
    fn settings_are_checked() {
        assert!(validate(&CampaignSettings::default()).is_ok());
        let mut s = CampaignSettings {
            waves: vec![10.0, 5.0, 100.0],
            ..Default::default()
        };
        assert!(validate(&s).is_err());
        s.waves = vec![10.0, 50.0];
        assert!(validate(&s).is_err(), "must end at 100");
        s.waves = vec![100.0];
        s.concurrency = 0;
        assert!(validate(&s).is_err());
    }

    fn window(days: Vec<u8>, start: u16, end: u16, offset: i32) -> MaintenanceWindow {
        MaintenanceWindow {
            days,
            start_minute: start,
            end_minute: end,
            utc_offset_minutes: offset,
        }
    }

    // 2026-11-30 is a Monday.
    const MONDAY_UTC_MIDNIGHT: i64 = 1_795_996_800_000;

    #[test]
    fn windows_open_and_close() {
        let h = 3_600_000;
        assert_eq!(weekday(MONDAY_UTC_MIDNIGHT), 0);
        let nightly = window(vec![], 22 * 60, 4 * 60, 0);
        assert!(!window_open(&nightly, MONDAY_UTC_MIDNIGHT + 12 * h));
        assert!(window_open(&nightly, MONDAY_UTC_MIDNIGHT + 23 * h));
        assert!(window_open(&nightly, MONDAY_UTC_MIDNIGHT + 2 * h));
        assert_eq!(
            next_opening(&nightly, MONDAY_UTC_MIDNIGHT + 12 * h),
            Some(MONDAY_UTC_MIDNIGHT + 22 * h)
        );
        // Weekends only, 09:00–17:00 at UTC+2.
        let weekend = window(vec![5, 6], 9 * 60, 17 * 60, 120);
        assert!(!window_open(&weekend, MONDAY_UTC_MIDNIGHT + 10 * h));
        let saturday_10_local = MONDAY_UTC_MIDNIGHT + 5 * 24 * h + 8 * h;
        assert!(window_open(&weekend, saturday_10_local));
        assert_eq!(
            next_opening(&weekend, MONDAY_UTC_MIDNIGHT),
            Some(MONDAY_UTC_MIDNIGHT + 5 * 24 * h + 7 * h)
        );
        // Friday-night window crossing into Saturday belongs to Friday.
        let friday_night = window(vec![4], 23 * 60, 60, 0);
        assert!(window_open(
            &friday_night,
            MONDAY_UTC_MIDNIGHT + 5 * 24 * h + h / 2
        ));
        assert!(!window_open(&friday_night, MONDAY_UTC_MIDNIGHT + h / 2));
    }

    #[test]
    fn the_earliest_start_waits_for_the_start_time_the_bake_and_the_window() {
        let h = 3_600_000;
        let now = MONDAY_UTC_MIDNIGHT + 12 * h;
        let rules = CampaignRules {
            bake_secs: 1_800,
            ..CampaignRules::default()
        };
        let mut settings = CampaignSettings::default();
        assert_eq!(earliest_start(&settings, &rules, now, None), Some(now));
        assert!(starts_allowed(&settings, &rules, now));
        // The previous wave was done an hour ago: its 30 min bake is over.
        assert_eq!(
            earliest_start(&settings, &rules, now, Some(now - h)),
            Some(now)
        );
        assert_eq!(
            earliest_start(&settings, &rules, now, Some(now)),
            Some(now + h / 2)
        );
        settings.start_at = Some(now + 2 * h);
        assert_eq!(
            earliest_start(&settings, &rules, now, None),
            Some(now + 2 * h)
        );
        assert!(!starts_allowed(&settings, &rules, now));
        // A nightly window: the start time falls outside, so the window's opening decides.
        settings.window = Some(window(vec![], 22 * 60, 4 * 60, 0));
        assert_eq!(
            earliest_start(&settings, &rules, now, None),
            Some(MONDAY_UTC_MIDNIGHT + 22 * h)
        );
        // Inside the window, the bake's end decides.
        let late = MONDAY_UTC_MIDNIGHT + 23 * h;
        assert_eq!(
            earliest_start(&settings, &rules, late, Some(late)),
            Some(late + h / 2)
        );
        // A bake ending after the window closed waits for the next night.
        let closing = MONDAY_UTC_MIDNIGHT + 24 * h + 3 * h + h / 2;
        assert_eq!(
            earliest_start(&settings, &rules, closing, Some(closing)),
            Some(MONDAY_UTC_MIDNIGHT + 24 * h + 22 * h)
        );
        assert!(starts_allowed(&settings, &rules, late));
    }

    #[test]
    fn retries_back_off_and_respect_the_policy() {
        let policy = RetryPolicy {
            max_retries: 2,
            backoff_secs: 10,
            retry_on: vec![ErrorKind::Offline],
        };
        assert_eq!(retry_at(&policy, 1, ErrorKind::Offline, 0), Some(10_000));
        assert_eq!(retry_at(&policy, 2, ErrorKind::Offline, 0), Some(20_000));
        assert_eq!(retry_at(&policy, 3, ErrorKind::Offline, 0), None);
        assert_eq!(retry_at(&policy, 1, ErrorKind::Device, 0), None);
    }

    #[test]
    fn thresholds() {
        assert!(wave_passed(98, 2, 5.0));
        assert!(!wave_passed(80, 20, 5.0));
        assert!(wave_passed(95, 5, 5.0));
        assert!(wave_passed(0, 0, 0.0));
    }
}
