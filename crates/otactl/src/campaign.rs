//! `otactl campaign`: create (with a pre-flight check), start / pause / resume / cancel, follow, retry the
//! failed devices, and read the dashboard. `start`, `resume` and `retry-failed` run the campaign in the
//! foreground until it ends or pauses; killed, the next `start` continues it where it stopped. While
//! another process runs the campaign (holds its lease), they follow it and say who runs it, and take it over
//! when that runner ends or its lease expires. While the window has the data folder open, they follow a
//! running campaign but set none running (`ota_app::startup::folder_lock`).

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ota_app::campaigns::{
    format_duration, parse_duration, window_words, CampaignDashboard, CampaignLease, CampaignPlan,
    CampaignRules, CampaignSettings, CampaignStart, CampaignState, CampaignTemplate, CampaignView,
    CampaignWait, MaintenanceWindow, NewCampaign, Preflight, TargetSpec, ThresholdAction, WaveGate,
};
use ota_app::{ApiError, Cloud, DeviceQuery, ErrorKind, StatusFilter};

use crate::context::{tell, Context};
use crate::output::{print_json, print_json_line};

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

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// What a campaign would do: devices per wave and those left out, with why.
    Preflight {
        #[command(flatten)]
        spec: Spec,
        #[arg(long)]
        json: bool,
    },
    /// What a campaign would do if created and started now, creating nothing: devices per wave, when each
    /// wave can start at the earliest (start time, window, bake, gate), and the devices left out.
    Plan {
        #[command(flatten)]
        spec: Spec,
        /// Also save its settings and rules as this template (replacing one of that name).
        #[arg(long, value_name = "NAME")]
        save_template: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Create a campaign (checked first; not started).
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        spec: Spec,
        /// Also save its settings and rules as this template (replacing one of that name).
        #[arg(long, value_name = "NAME")]
        save_template: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The saved campaign templates (settings and rules), by name.
    Templates {
        #[arg(long)]
        json: bool,
    },
    /// Delete a campaign template.
    TemplateDelete { name: String },
    /// Start (or continue) a campaign and follow it until it ends or pauses.
    Start {
        id: i64,
        /// Print a JSON line per second instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Nothing new starts; devices already updating are followed.
    Pause { id: i64 },
    /// Resume a paused campaign and follow it.
    Resume {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Cancel: devices not started yet will not be.
    Cancel { id: i64 },
    /// Close a continuous campaign: no device joins any more; it completes once its devices are done.
    Close {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve a campaign created with --require-approval (refused to its creator: another user approves).
    Approve { id: i64 },
    /// Manual gate: let the campaign's next wave start once its current one passed (and baked).
    ApproveWave { id: i64 },
    /// Put the failed devices back in the queue and follow the campaign again.
    RetryFailed {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Counts per state and wave, pace, and failures grouped by reason.
    Status {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Every campaign, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
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

async fn new_campaign(ctx: &Context, name: String, spec: Spec) -> Result<NewCampaign, ApiError> {
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
fn save_template(ctx: &Context, name: &str, new: &NewCampaign, json: bool) -> Result<(), ApiError> {
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

/// A moment in local time with its offset: "2026-12-04 22:00:00 +01:00".
fn local_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn print_plan(plan: &CampaignPlan) {
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

fn template_words(t: &CampaignTemplate) -> String {
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

fn print_preflight(p: &Preflight) {
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
fn waiting_words(wait: &CampaignWait) -> String {
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
fn rules_words(v: &CampaignView) -> String {
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

fn summary_line(v: &CampaignView) -> String {
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

fn print_dashboard(d: &CampaignDashboard) {
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
fn clock(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// What to say when the campaign's runner changed (`None`: nothing, we started it ourselves).
fn runner_notice(id: i64, lease: &CampaignLease, followed_before: bool) -> Option<String> {
    if lease.is_this_process() {
        return followed_before
            .then(|| format!("campaign {id}: the previous runner stopped; running it here"));
    }
    Some(format!(
        "campaign {id} is run by {} (lease until {}); following",
        lease.describe(),
        clock(lease.expires_at)
    ))
}

/// Runs the campaign here until it stops, printing progress every second. While another process runs it,
/// this one follows, says who runs it, and takes over when that runner ends or stops renewing its lease.
async fn follow(ctx: &Context, id: i64, json: bool) -> Result<ExitCode, ApiError> {
    let app = ctx.app.clone();
    let handle = tokio::spawn(async move { app.run_campaign(id).await });
    let app = &ctx.app;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut last = String::new();
    let mut runner_seen: Option<String> = None;
    while !handle.is_finished() {
        ticker.tick().await;
        if let Some(lease) = app.campaign_run_by(id)? {
            if runner_seen.as_deref() != Some(lease.holder.as_str()) {
                if let Some(notice) = runner_notice(id, &lease, runner_seen.is_some()) {
                    // JSON lines stay on stdout alone.
                    if json {
                        eprintln!("{notice}");
                    } else {
                        println!("{notice}");
                    }
                }
                runner_seen = Some(lease.holder);
            }
        }
        let view = app.campaign(id)?;
        if json {
            print_json_line(&view)?;
        } else {
            let line = summary_line(&view);
            if line != last {
                println!("{line}");
                last = line;
            }
        }
    }
    let view = handle
        .await
        .map_err(|e| ApiError::internal(format!("the campaign runner stopped: {e}")))??;
    print_end(app.campaign_dashboard(id)?, json)?;
    Ok(match view.state {
        CampaignState::Completed | CampaignState::Paused => ExitCode::SUCCESS,
        _ => crate::output::partial(),
    })
}

fn print_end(dashboard: CampaignDashboard, json: bool) -> Result<(), ApiError> {
    if json {
        print_json_line(&dashboard)
    } else {
        print_dashboard(&dashboard);
        Ok(())
    }
}

pub async fn run(ctx: &Context, cmd: CampaignCommand) -> Result<ExitCode, ApiError> {
    let app = &ctx.app;
    match cmd {
        CampaignCommand::Preflight { spec, json } => {
            let new = new_campaign(ctx, String::new(), spec).await?;
            let p = app.campaign_preflight(&new)?;
            if json {
                print_json(&p)?;
            } else {
                print_preflight(&p);
            }
        }
        CampaignCommand::Plan {
            spec,
            save_template: template,
            json,
        } => {
            let new = new_campaign(ctx, String::new(), spec).await?;
            let plan = app.plan_campaign(&new)?;
            if let Some(name) = &template {
                save_template(ctx, name, &new, json)?;
            }
            if json {
                print_json(&plan)?;
            } else {
                print_plan(&plan);
            }
        }
        CampaignCommand::Create {
            name,
            spec,
            save_template: template,
            json,
        } => {
            let new = new_campaign(ctx, name, spec).await?;
            let p = app.campaign_preflight(&new)?;
            let view = app.create_campaign(&new)?;
            if let Some(name) = &template {
                save_template(ctx, name, &new, json)?;
            }
            if json {
                print_json(&view)?;
            } else {
                print_preflight(&p);
                println!("created {}", summary_line(&view));
            }
        }
        CampaignCommand::Start { id, json } => match app.start_campaign(id).await? {
            CampaignStart::AlreadyFinished(view) => {
                // E.g. run again after a kill that came after the end: say where it stands.
                eprintln!("campaign #{id} is already {}", view.state.as_str());
                print_end(app.campaign_dashboard(id)?, json)?;
                return Ok(if view.state == CampaignState::Completed {
                    ExitCode::SUCCESS
                } else {
                    crate::output::partial()
                });
            }
            CampaignStart::Running(_) => return follow(ctx, id, json).await,
        },
        CampaignCommand::Pause { id } => {
            println!("{}", summary_line(&app.pause_campaign(id)?));
        }
        CampaignCommand::Resume { id, json } => {
            app.resume_campaign(id).await?;
            return follow(ctx, id, json).await;
        }
        CampaignCommand::Cancel { id } => {
            println!("{}", summary_line(&app.cancel_campaign(id)?));
        }
        CampaignCommand::Close { id, json } => {
            let view = app.close_campaign(id)?;
            if json {
                print_json(&view)?;
            } else {
                println!("closed {}", summary_line(&view));
            }
        }
        CampaignCommand::Approve { id } => {
            println!("approved {}", summary_line(&app.approve_campaign(id)?));
        }
        CampaignCommand::ApproveWave { id } => {
            let view = app.approve_wave(id)?;
            println!(
                "wave {} approved: {}",
                view.wave_approved + 1,
                summary_line(&view)
            );
        }
        CampaignCommand::RetryFailed { id, json } => {
            app.retry_failed_devices(id).await?;
            return follow(ctx, id, json).await;
        }
        CampaignCommand::Status { id, json } => {
            let d = app.campaign_dashboard(id)?;
            if json {
                print_json(&d)?;
            } else {
                print_dashboard(&d);
            }
        }
        CampaignCommand::Templates { json } => {
            let list = app.campaign_templates()?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("No templates yet: `otactl campaign create … --save-template NAME`.");
            } else {
                for t in &list {
                    println!("{}: {}", t.name, template_words(t));
                }
            }
        }
        CampaignCommand::TemplateDelete { name } => {
            app.delete_campaign_template(&name)?;
            println!("deleted template “{}”", name.trim());
        }
        CampaignCommand::List { json } => {
            let list = app.campaigns()?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("No campaigns yet: `otactl campaign create --name N --firmware ID ...`.");
            } else {
                for v in &list {
                    println!("{}", summary_line(v));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
