//! How `otactl campaign` prints plans, pre-flight answers, templates and dashboards as text.

use ota_app::campaigns::{
    format_duration, window_words, CampaignDashboard, CampaignPlan, CampaignTemplate, CampaignView,
    CampaignWait, Preflight, WaveGate,
};

/// A moment in local time with its offset: "2026-12-04 22:00:00 +01:00".
pub(crate) fn local_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}

pub(super) fn print_plan(plan: &CampaignPlan) {
    print_preflight(&plan.preflight);
    for w in &plan.waves {
        let when = match w.earliest_start_ms {
            Some(at) => format!("from {} — {}", local_time(at), w.after),
            None => w.after.clone(),
        };
        println!(
            "wave {}: {} device{} · {when}",
            w.wave + 1,
            w.devices,
            if w.devices == 1 { "" } else { "s" }
        );
    }
}

pub(super) fn template_words(t: &CampaignTemplate) -> String {
    let s = &t.settings;
    let mut words = vec![
        format!(
            "waves {}",
            s.waves
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
        format!("concurrency {}", s.concurrency),
        format!("rate {}/s", s.requests_per_second),
        format!("threshold {} %", s.failure_threshold_percent),
    ];
    if let Some(w) = &s.window {
        words.push(format!("window {}", window_words(w)));
    }
    if t.rules.bake_secs > 0 {
        words.push(format!(
            "bake {}",
            format_duration(u64::from(t.rules.bake_secs))
        ));
    }
    if t.rules.gate == WaveGate::Manual {
        words.push("gate manual".into());
    }
    if t.rules.require_approval {
        words.push("approval required".into());
    }
    words.join(" · ")
}

pub(super) fn print_preflight(p: &Preflight) {
    println!(
        "{} of {} devices take it; waves: {}",
        p.eligible,
        p.targets,
        p.wave_sizes
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" → ")
    );
    for r in &p.by_reason {
        println!("  left out: {:>6}  {}", r.count, r.label);
    }
    for e in p.excluded.iter().take(20) {
        println!("    {:<24} {}", e.device_id, e.detail);
    }
    if p.excluded.len() > 20 {
        println!("    … and {} more", p.excluded.len() - 20);
    }
}

/// What a rule holds the campaign for, in words (stable while it waits, so `follow` prints it once).
pub(super) fn waiting_words(wait: &CampaignWait) -> String {
    match wait {
        CampaignWait::AwaitingApproval => {
            "awaiting approval: another user runs `otactl campaign approve`".to_string()
        }
        CampaignWait::AwaitingWaveApproval { wave } => format!(
            "awaiting wave approval: wave {} starts after `otactl campaign approve-wave`",
            wave + 1
        ),
        CampaignWait::Baking { wave, until } => {
            format!("baking wave {} until {}", wave + 1, clock(*until))
        }
        CampaignWait::WaitingForDevices => {
            "waiting for new devices: `otactl campaign close` ends it".to_string()
        }
    }
}

/// The campaign's rules, in words.
pub(super) fn rules_words(v: &CampaignView) -> String {
    let r = &v.rules;
    let mut words = vec![
        format!("bake {}", format_duration(u64::from(r.bake_secs))),
        format!(
            "gate {}",
            match r.gate {
                WaveGate::Auto => "auto",
                WaveGate::Manual => "manual",
            }
        ),
        format!(
            "device timeout {}",
            r.device_timeout_secs
                .map(|t| format_duration(u64::from(t)))
                .unwrap_or_else(|| "none".into())
        ),
        format!("verify {}", if r.verify_version { "on" } else { "off" }),
    ];
    if r.continuous {
        words.push(if v.closed {
            "continuous (closed)".into()
        } else {
            "continuous".into()
        });
    }
    if r.require_approval {
        words.push(match &v.approved_by {
            Some(who) => format!("approved by {who}"),
            None => "approval required".into(),
        });
    }
    words.join(" · ")
}

pub(super) fn summary_line(v: &CampaignView) -> String {
    let c = &v.counts;
    format!(
        "#{} {} [{}] wave {}/{} · {} succeeded · {} failed · {} updating · {} pending · {} skipped{}",
        v.id,
        v.name,
        v.state.as_str(),
        (v.current_wave + 1).min(v.wave_count),
        v.wave_count,
        c.succeeded,
        c.failed,
        c.in_flight,
        c.pending,
        c.skipped,
        v.waiting
            .as_ref()
            .map(|w| format!(" · {}", waiting_words(w)))
            .unwrap_or_default()
    )
}

pub(super) fn print_dashboard(d: &CampaignDashboard) {
    println!("{}", summary_line(&d.campaign));
    println!(
        "firmware {} ({}) · success {:.1} % · {:.1} devices/min{}",
        d.campaign.firmware_version,
        d.campaign.firmware_file,
        d.success_percent,
        d.per_minute,
        d.eta_secs
            .map(|s| format!(" · about {} min left", s.div_ceil(60)))
            .unwrap_or_default()
    );
    println!("rules: {}", rules_words(&d.campaign));
    if let Some(reason) = &d.campaign.reason {
        println!("reason: {reason}");
    }
    if let Some(lease) = &d.run_by {
        println!("run by {}", lease.describe());
    }
    for w in &d.waves {
        println!(
            "  wave {}: {} devices · {} succeeded · {} failed ({:.1} %) · {} open",
            w.index + 1,
            w.counts.total,
            w.counts.succeeded,
            w.counts.failed,
            w.failure_percent,
            w.counts.open()
        );
    }
    for f in &d.failures {
        println!(
            "  {:>5} × {}{}{}",
            f.count,
            f.message,
            f.vendor_code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default(),
            f.hint
                .as_deref()
                .map(|h| format!(" — {h}"))
                .unwrap_or_default()
        );
    }
}

/// A time of day in local time, for "lease until 14:03:07".
pub(super) fn clock(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}
