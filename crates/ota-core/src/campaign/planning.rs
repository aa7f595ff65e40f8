//! `campaign plan`: what a campaign would do if it were created and started now, without creating it —
//! the pre-flight check and, per wave, its devices and its earliest start. The times come from
//! [`rules::earliest_start`], the rule the runner itself starts devices by, so the plan cannot drift from
//! what the campaign does.

use super::model::{CampaignPlan, CampaignRules, NewCampaign, PlannedWave, WaveGate};
use super::rules;
use crate::console::Console;
use crate::error::ApiError;
use crate::model::now_ms;

/// The plan of `new` as of now.
pub fn plan(console: &Console, new: &NewCampaign) -> Result<CampaignPlan, ApiError> {
    let preflight = super::preflight(console, new)?;
    Ok(plan_waves(new, preflight, now_ms()))
}

/// The waves of a campaign whose pre-flight answered `preflight`, started at `now`.
pub fn plan_waves(new: &NewCampaign, preflight: super::model::Preflight, now: i64) -> CampaignPlan {
    let settings = &new.settings;
    let rules = new.rules.clone().unwrap_or_default();
    let waves = preflight
        .wave_sizes
        .iter()
        .enumerate()
        .map(|(i, &devices)| {
            let wave = i as u32;
            if wave == 0 {
                let earliest = rules::earliest_start(settings, &rules, now, None);
                PlannedWave {
                    wave,
                    devices,
                    earliest_start_ms: earliest,
                    after: first_wave_words(new, &rules, now, earliest),
                }
            } else {
                PlannedWave {
                    wave,
                    devices,
                    earliest_start_ms: None,
                    after: later_wave_words(new, &rules, wave),
                }
            }
        })
        .collect();
    CampaignPlan {
        preflight,
        waves,
        planned_at: now,
    }
}

fn first_wave_words(
    new: &NewCampaign,
    rules: &CampaignRules,
    now: i64,
    earliest: Option<i64>,
) -> String {
    let settings = &new.settings;
    let when = match earliest {
        None => return "never: the maintenance window does not open".to_string(),
        Some(at) if at <= now => "at once".to_string(),
        Some(at) => {
            let after_start = settings.start_at.map_or(now, |s| s.max(now));
            match &settings.window {
                Some(w) if at > after_start => {
                    format!("when the window opens ({})", window_words(w))
                }
                _ => "at the start time".to_string(),
            }
        }
    };
    if rules.require_approval {
        format!("after approval by another user; {when} at the earliest")
    } else {
        when
    }
}

fn later_wave_words(new: &NewCampaign, rules: &CampaignRules, wave: u32) -> String {
    // `wave` is 0-based; the previous wave in words is 1-based, i.e. `wave` itself.
    let mut words = format!("wave {wave} done");
    if rules.bake_secs > 0 {
        words.push_str(&format!(
            " + {}",
            rules::format_duration(u64::from(rules.bake_secs))
        ));
    }
    if rules.gate == WaveGate::Manual {
        words.push_str(", after approve-wave");
    }
    if let Some(w) = &new.settings.window {
        words.push_str(&format!(", inside the window ({})", window_words(w)));
    }
    words
}

/// "22:00–05:00 UTC+01:00, Mon Tue"
pub fn window_words(w: &super::model::MaintenanceWindow) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let offset = w.utc_offset_minutes;
    let sign = if offset < 0 { '-' } else { '+' };
    let mut words = format!(
        "{}–{} UTC{sign}{:02}:{:02}",
        hhmm(w.start_minute),
        hhmm(w.end_minute),
        offset.abs() / 60,
        offset.abs() % 60
    );
    if !w.days.is_empty() {
        let days: Vec<&str> = w
            .days
            .iter()
            .filter_map(|d| DAYS.get(usize::from(*d)).copied())
            .collect();
        words.push_str(&format!(", {}", days.join(" ")));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::model::*;
    use crate::model::DeviceQuery;

    // 2026-11-30 is a Monday.
    const MONDAY_UTC_MIDNIGHT: i64 = 1_795_996_800_000;
    const H: i64 = 3_600_000;

    fn new(settings: CampaignSettings, rules: CampaignRules) -> NewCampaign {
        NewCampaign {
            name: "p".into(),
            firmware_id: 1,
            targets: CampaignTargets::Filter {
                query: DeviceQuery::default(),
            },
            settings,
            rules: Some(rules),
        }
    }

    fn preflight(sizes: Vec<u32>) -> Preflight {
        Preflight {
            targets: sizes.iter().sum(),
            eligible: sizes.iter().sum(),
            wave_sizes: sizes,
            by_reason: vec![],
            excluded: vec![],
        }
    }

    #[test]
    fn a_plan_without_rules_starts_at_once_and_follows_each_wave() {
        let now = MONDAY_UTC_MIDNIGHT + 12 * H;
        let plan = plan_waves(
            &new(CampaignSettings::default(), CampaignRules::default()),
            preflight(vec![1, 9, 90]),
            now,
        );
        assert_eq!(plan.waves.len(), 3);
        assert_eq!(plan.waves[0].earliest_start_ms, Some(now));
        assert_eq!(plan.waves[0].after, "at once");
        assert_eq!(plan.waves[1].devices, 9);
        assert_eq!(plan.waves[1].earliest_start_ms, None);
        assert_eq!(plan.waves[1].after, "wave 1 done");
        assert_eq!(plan.waves[2].after, "wave 2 done");
    }

    #[test]
    fn a_window_that_opens_later_sets_the_first_start_and_holds_the_later_waves() {
        let now = MONDAY_UTC_MIDNIGHT + 12 * H;
        let settings = CampaignSettings {
            window: Some(MaintenanceWindow {
                days: vec![],
                start_minute: 22 * 60,
                end_minute: 5 * 60,
                utc_offset_minutes: 60,
            }),
            ..CampaignSettings::default()
        };
        let rules = CampaignRules {
            bake_secs: 1_800,
            gate: WaveGate::Manual,
            require_approval: true,
            ..CampaignRules::default()
        };
        let plan = plan_waves(&new(settings, rules), preflight(vec![1, 9, 90]), now);
        // 22:00 at UTC+1 is 21:00 UTC.
        assert_eq!(
            plan.waves[0].earliest_start_ms,
            Some(MONDAY_UTC_MIDNIGHT + 21 * H)
        );
        assert_eq!(
            plan.waves[0].after,
            "after approval by another user; when the window opens (22:00–05:00 UTC+01:00) at the earliest"
        );
        assert_eq!(
            plan.waves[1].after,
            "wave 1 done + 30m, after approve-wave, inside the window (22:00–05:00 UTC+01:00)"
        );
    }

    #[test]
    fn a_start_time_inside_the_window_is_the_first_start() {
        let now = MONDAY_UTC_MIDNIGHT + 12 * H;
        let settings = CampaignSettings {
            start_at: Some(now + 2 * H),
            ..CampaignSettings::default()
        };
        let plan = plan_waves(
            &new(settings, CampaignRules::default()),
            preflight(vec![5]),
            now,
        );
        assert_eq!(plan.waves[0].earliest_start_ms, Some(now + 2 * H));
        assert_eq!(plan.waves[0].after, "at the start time");
    }
}
