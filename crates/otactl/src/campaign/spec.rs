//! What `campaign preflight | plan | create` take: the flags (`Spec`), merged over a template, into the
//! `NewCampaign` the use cases check; saving a template.

use ota_app::campaigns::{
    parse_duration, CampaignRules, CampaignSettings, MaintenanceWindow, NewCampaign, TargetSpec,
    ThresholdAction, WaveGate,
};
use ota_app::{ApiError, Cloud, DeviceQuery, ErrorKind, StatusFilter};

use crate::context::{tell, Context};

/// What a campaign is for and how it runs. Settings left out come from `--template` when one is named,
/// else from the defaults shown; flags given override the template's values.
#[derive(Debug, clap::Args)]
pub struct Spec {
    /// The library entry to roll out (`otactl firmware list`).
    #[arg(long)]
    firmware: i64,
    /// Explicit devices (ids, comma-separated); otherwise the filter below selects them.
    #[arg(long, value_delimiter = ',', conflicts_with = "cohort")]
    devices: Vec<String>,
    /// A cohort's devices (name or id; `otactl cohort list`).
    #[arg(long)]
    cohort: Option<String>,
    /// Filter: devices having this tag.
    #[arg(long, conflicts_with = "cohort")]
    tag: Option<String>,
    /// Devices that start matching the filter or dynamic cohort later join the campaign until
    /// `otactl campaign close ID`.
    #[arg(long)]
    continuous: bool,
    /// Filter: substring of id, name or model.
    #[arg(long, default_value = "")]
    search: String,
    /// Filter: one cloud only.
    #[arg(long, value_parser = crate::accounts::parse_cloud)]
    cloud: Option<Cloud>,
    /// Filter: online devices only.
    #[arg(long)]
    online: bool,
    /// Start from the settings and rules saved as this template (`otactl campaign templates`).
    #[arg(long, value_name = "NAME")]
    template: Option<String>,
    /// Cumulative percentages after each wave [default: 1,10,100].
    #[arg(long, value_delimiter = ',')]
    waves: Option<Vec<f64>>,
    /// Devices updating at once, at most [default: 50].
    #[arg(long)]
    concurrency: Option<u32>,
    /// Requests a second to each cloud, at most [default: 20].
    #[arg(long)]
    rate: Option<f64>,
    /// A wave whose failed share exceeds this percentage stops the campaign [default: 10].
    #[arg(long)]
    threshold: Option<f64>,
    /// What a wave over the threshold does [default: abort].
    #[arg(long, value_parser = ["abort", "pause"])]
    on_threshold: Option<String>,
    /// Automatic retries of a failed device [default: 0].
    #[arg(long)]
    max_retries: Option<u32>,
    /// Seconds before the first retry (doubled after each) [default: 60].
    #[arg(long)]
    backoff: Option<u32>,
    /// Failure kinds worth retrying [default: offline,rate_limited,retryable].
    #[arg(long, value_delimiter = ',')]
    retry_on: Option<Vec<String>>,
    /// Maintenance window, local time: HH:MM-HH:MM (may cross midnight).
    #[arg(long)]
    window: Option<String>,
    /// Days the window opens: 0 = Monday … 6 = Sunday [default: every day].
    #[arg(long, value_delimiter = ',')]
    window_days: Option<Vec<u8>>,
    /// The window's offset from UTC in minutes [default: 0].
    #[arg(long, allow_hyphen_values = true)]
    utc_offset: Option<i32>,
    /// Nothing starts before this time (RFC 3339).
    #[arg(long, value_parser = crate::audit::parse_time)]
    start_at: Option<i64>,
    /// Leave out devices whose battery is below this percentage [default: 20].
    #[arg(long)]
    min_battery: Option<u8>,
    /// A wave passes only after it has been complete this long within its threshold (90s, 30m, 2h, 1d).
    #[arg(long, value_parser = duration_arg)]
    bake: Option<u32>,
    /// `manual`: each next wave waits for `otactl campaign approve-wave ID` (or the window's button)
    /// [default: auto].
    #[arg(long, value_parser = ["auto", "manual"])]
    gate: Option<String>,
    /// A device still in progress this long after its start fails as "timed out" (90s, 30m, 2h, 1d).
    #[arg(long, value_parser = duration_arg)]
    device_timeout: Option<u32>,
    /// Count a device as succeeded on the cloud's status alone, without reading back its version.
    #[arg(long)]
    no_verify: bool,
    /// Read back the version after the cloud reports success (the default; overrides a template's
    /// --no-verify).
    #[arg(long, conflicts_with = "no_verify")]
    verify: bool,
    /// The campaign waits in "awaiting approval" until another user runs `otactl campaign approve ID`.
    #[arg(long)]
    require_approval: bool,
}

fn duration_arg(raw: &str) -> Result<u32, String> {
    parse_duration(raw).map_err(|e| e.message)
}

fn parse_hhmm(raw: &str) -> Result<u16, ApiError> {
    let bad = || ApiError::validation(format!("“{raw}” is not a time of day (HH:MM)."));
    let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_window(
    raw: &str,
    days: Vec<u8>,
    utc_offset_minutes: i32,
) -> Result<MaintenanceWindow, ApiError> {
    let (a, b) = raw
        .split_once('-')
        .ok_or_else(|| ApiError::validation("The window is HH:MM-HH:MM, e.g. 22:00-04:00."))?;
    Ok(MaintenanceWindow {
        days,
        start_minute: parse_hhmm(a)?,
        end_minute: parse_hhmm(b)?,
        utc_offset_minutes,
    })
}

/// The settings and rules of `spec`: the template's (or the defaults) with every flag given on top.
fn settings_and_rules(
    ctx: &Context,
    spec: &Spec,
) -> Result<(CampaignSettings, CampaignRules), ApiError> {
    let (mut settings, mut rules) = match &spec.template {
        Some(name) => {
            let t = ctx.app.campaign_template(name)?;
            (t.settings, t.rules)
        }
        None => (CampaignSettings::default(), CampaignRules::default()),
    };
    if let Some(waves) = &spec.waves {
        settings.waves = waves.clone();
    }
    if let Some(v) = spec.concurrency {
        settings.concurrency = v;
    }
    if let Some(v) = spec.rate {
        settings.requests_per_second = v;
    }
    if let Some(v) = spec.threshold {
        settings.failure_threshold_percent = v;
    }
    if let Some(v) = &spec.on_threshold {
        settings.on_threshold = if v == "pause" {
            ThresholdAction::Pause
        } else {
            ThresholdAction::Abort
        };
    }
    if let Some(v) = spec.max_retries {
        settings.retry.max_retries = v;
    }
    if let Some(v) = spec.backoff {
        settings.retry.backoff_secs = v;
    }
    if let Some(kinds) = &spec.retry_on {
        let mut retry_on = Vec::new();
        for kind in kinds {
            retry_on.push(ErrorKind::parse(kind.trim()).ok_or_else(|| {
                ApiError::validation(format!(
                    "“{kind}” is not a failure kind (offline, rate_limited, retryable, device, …)."
                ))
            })?);
        }
        settings.retry.retry_on = retry_on;
    }
    settings.window = match (&spec.window, settings.window.take()) {
        (Some(raw), base) => Some(parse_window(
            raw,
            spec.window_days
                .clone()
                .or_else(|| base.as_ref().map(|w| w.days.clone()))
                .unwrap_or_default(),
            spec.utc_offset
                .or_else(|| base.as_ref().map(|w| w.utc_offset_minutes))
                .unwrap_or(0),
        )?),
        (None, Some(mut base)) => {
            if let Some(days) = &spec.window_days {
                base.days = days.clone();
            }
            if let Some(offset) = spec.utc_offset {
                base.utc_offset_minutes = offset;
            }
            Some(base)
        }
        (None, None) => None,
    };
    if spec.start_at.is_some() {
        settings.start_at = spec.start_at;
    }
    if let Some(v) = spec.min_battery {
        settings.min_battery = v;
    }
    if let Some(v) = spec.bake {
        rules.bake_secs = v;
    }
    if let Some(v) = &spec.gate {
        rules.gate = if v == "manual" {
            WaveGate::Manual
        } else {
            WaveGate::Auto
        };
    }
    if spec.device_timeout.is_some() {
        rules.device_timeout_secs = spec.device_timeout;
    }
    if spec.no_verify {
        rules.verify_version = false;
    }
    if spec.verify {
        rules.verify_version = true;
    }
    if spec.require_approval {
        rules.require_approval = true;
    }
    if spec.continuous {
        rules.continuous = true;
    }
    Ok((settings, rules))
}

pub(super) async fn new_campaign(
    ctx: &Context,
    name: String,
    spec: Spec,
) -> Result<NewCampaign, ApiError> {
    let (settings, rules) = settings_and_rules(ctx, &spec)?;
    let spec_targets = if let Some(cohort) = spec.cohort {
        TargetSpec::Cohort(cohort)
    } else if spec.devices.is_empty() {
        TargetSpec::Filter(DeviceQuery {
            search: spec.search,
            cloud: spec.cloud,
            status: if spec.online {
                StatusFilter::Online
            } else {
                StatusFilter::All
            },
            tag: spec.tag,
            ..Default::default()
        })
    } else {
        TargetSpec::Ids(spec.devices)
    };
    let (targets, notices) = ctx.app.campaign_targets(spec_targets, spec.cloud).await?;
    tell(&notices);
    Ok(NewCampaign {
        name,
        firmware_id: spec.firmware,
        targets,
        settings,
        rules: Some(rules),
    })
}

/// Saves the campaign's settings and rules as the template `name`, saying so (on stderr with `--json`).
pub(super) fn save_template(
    ctx: &Context,
    name: &str,
    new: &NewCampaign,
    json: bool,
) -> Result<(), ApiError> {
    let saved = ctx.app.save_campaign_template(
        name,
        &new.settings,
        &new.rules.clone().unwrap_or_default(),
    )?;
    let line = format!("saved template “{}”", saved.name);
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(())
}
