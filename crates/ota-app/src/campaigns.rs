//! Fleet campaigns: pre-flight, create, start / pause / resume / cancel / retry the failed devices /
//! delete, and the dashboard. The window runs campaigns in the background for as long as it runs;
//! `otactl` runs one in the foreground ([`App::run_campaign`]). Either way a campaign is driven by whoever
//! holds its lease, so two processes never run it at once.

pub use ota_core::campaign::model::*;
/// A maintenance window in words ("22:00–05:00 UTC+01:00, Mon Tue").
pub use ota_core::campaign::planning::window_words;
/// Durations as a user types them ("90s", "30m", "2h", "1d") and as they are shown.
pub use ota_core::campaign::rules::{format_duration, parse_duration};

use ota_core::campaign;
use ota_core::folder_lock::CliWork;

use crate::{ApiError, App, Cloud, DeviceQuery, ErrorKind, Launcher};

/// What a campaign targets, as a user names it.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// The devices matching a filter over the cached fleet.
    Filter(DeviceQuery),
    /// Devices by id (any cloud); each must be cached for exactly one account in scope.
    Ids(Vec<String>),
    /// A cohort, by id or name.
    Cohort(String),
}

/// What asking to start a campaign did.
#[derive(Debug, Clone)]
pub enum CampaignStart {
    /// It runs (it was set running now, or already ran).
    Running(CampaignView),
    /// It had already ended: nothing was started.
    AlreadyFinished(CampaignView),
}

impl App {
    /// The targets of `spec`, with the fleet fetched first when the cache holds none of `cloud`'s
    /// devices; also answers what the user should be told about that fetch.
    pub async fn campaign_targets(
        &self,
        spec: TargetSpec,
        cloud: Option<Cloud>,
    ) -> Result<(CampaignTargets, Vec<String>), ApiError> {
        let notices = self.ensure_fleet_cached(cloud).await?;
        let targets = match spec {
            TargetSpec::Filter(query) => CampaignTargets::Filter { query },
            TargetSpec::Ids(ids) => CampaignTargets::Devices {
                devices: self.device_keys(&ids)?,
            },
            TargetSpec::Cohort(name) => CampaignTargets::Cohort {
                cohort_id: ota_core::cohort::find_cohort(&self.console, &name)?.id,
            },
        };
        Ok((targets, notices))
    }

    /// What a campaign would do: devices per wave and those left out, with why.
    pub fn campaign_preflight(&self, new: &NewCampaign) -> Result<Preflight, ApiError> {
        campaign::preflight(&self.console, new)
    }

    /// What the campaign would do if it were created and started now, without creating anything: the
    /// pre-flight check, and per wave its devices and earliest start (the runner's own rule).
    pub fn plan_campaign(&self, new: &NewCampaign) -> Result<CampaignPlan, ApiError> {
        campaign::planning::plan(&self.console, new)
    }

    /// Saves the settings and rules under `name` (replacing a template of that name). Audited.
    pub fn save_campaign_template(
        &self,
        name: &str,
        settings: &CampaignSettings,
        rules: &CampaignRules,
    ) -> Result<CampaignTemplate, ApiError> {
        campaign::templates::save(&self.console, name, settings, rules)
    }

    /// The template `name` (its settings and rules).
    pub fn campaign_template(&self, name: &str) -> Result<CampaignTemplate, ApiError> {
        campaign::templates::get(&self.console, name)
    }

    /// Every campaign template, by name.
    pub fn campaign_templates(&self) -> Result<Vec<CampaignTemplate>, ApiError> {
        campaign::templates::list(&self.console)
    }

    /// Deletes the template `name`. Audited.
    pub fn delete_campaign_template(&self, name: &str) -> Result<(), ApiError> {
        campaign::templates::delete(&self.console, name)
    }

    /// Creates the campaign (checked first; not started).
    pub fn create_campaign(&self, new: &NewCampaign) -> Result<CampaignView, ApiError> {
        campaign::create(&self.console, new)
    }

    pub fn campaigns(&self) -> Result<Vec<CampaignView>, ApiError> {
        campaign::list(&self.console)
    }

    pub fn campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        Ok(self.console.store().campaign_view(id)?)
    }

    pub fn campaign_dashboard(&self, id: i64) -> Result<CampaignDashboard, ApiError> {
        campaign::dashboard(&self.console, id)
    }

    pub fn campaign_devices(
        &self,
        id: i64,
        query: &CampaignDeviceQuery,
    ) -> Result<CampaignDevicePage, ApiError> {
        campaign::devices(&self.console, id, query)
    }

    /// The runner that runs the campaign now (holds its live lease), if any.
    pub fn campaign_run_by(&self, id: i64) -> Result<Option<CampaignLease>, ApiError> {
        campaign::run_by(&self.console, id)
    }

    /// Sets the campaign running (a ready or paused one), or finds it running already — then this process
    /// follows it, and its lease decides who drives. A finished campaign is left as it is.
    pub async fn start_campaign(&self, id: i64) -> Result<CampaignStart, ApiError> {
        self.wait_ready().await;
        let view = self.console.store().campaign_header(id)?;
        if view.state.is_finished() {
            return Ok(CampaignStart::AlreadyFinished(self.campaign(id)?));
        }
        if view.state != CampaignState::Running {
            self.may_begin(CliWork::StartCampaign(id))?;
            self.unless_running(id, campaign::start(&self.console, id))?;
        }
        self.drive_in_background(id);
        Ok(CampaignStart::Running(self.campaign(id)?))
    }

    /// Resumes a paused campaign (a running one is followed).
    pub async fn resume_campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        if self.console.store().campaign_header(id)?.state != CampaignState::Running {
            self.may_begin(CliWork::ResumeCampaign(id))?;
        }
        self.unless_running(id, campaign::resume(&self.console, id))?;
        self.drive_in_background(id);
        self.campaign(id)
    }

    /// Puts the failed devices back in the queue and runs the campaign again.
    pub async fn retry_failed_devices(&self, id: i64) -> Result<CampaignView, ApiError> {
        self.may_begin(CliWork::RetryFailed(id))?;
        let view = campaign::retry_failed(&self.console, id)?;
        self.drive_in_background(id);
        Ok(view)
    }

    /// Approves a campaign created with "require approval", as this user (the OS user the audit log
    /// names, or `OTA_CONSOLE_USER`). Its creator is refused: another user must approve it. Audited.
    pub fn approve_campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        campaign::approve(&self.console, id)
    }

    /// Manual gate: lets the campaign's next wave start once its current one passed (and baked).
    /// Audited.
    pub fn approve_wave(&self, id: i64) -> Result<CampaignView, ApiError> {
        campaign::approve_wave(&self.console, id)
    }

    /// Closes a continuous campaign: no device joins it any more, and it completes once its devices are
    /// done. Audited (`campaign.close`).
    pub fn close_campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        campaign::close(&self.console, id)
    }

    /// Nothing new starts; devices already updating are followed.
    pub fn pause_campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        campaign::pause(&self.console, id)
    }

    /// Devices not started yet will not be.
    pub fn cancel_campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        campaign::cancel(&self.console, id)
    }

    pub fn delete_campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        campaign::delete(&self.console, id)
    }

    /// Runs the campaign in this task until it ends or pauses, and answers its final view. While another
    /// process runs it, this follows and takes over when that runner ends or its lease expires.
    pub async fn run_campaign(&self, id: i64) -> Result<CampaignView, ApiError> {
        match campaign::drive(self.console.clone(), id).await {
            Some(result) => result,
            // This process runs it already (in the background): its state now.
            None => self.campaign(id),
        }
    }

    /// The window runs a campaign in the background; `otactl` runs it with [`App::run_campaign`]. In team
    /// mode neither does: the team's `otactl serve` runners run it (`otactl campaign start --here` still can).
    fn drive_in_background(&self, id: i64) {
        if self.launcher == Launcher::Window && !self.is_team_mode() {
            campaign::spawn(self.console.clone(), id);
        }
    }

    /// A start or resume that found the campaign already running (another process started it a moment
    /// ago) is no failure: this process follows it.
    fn unless_running(
        &self,
        id: i64,
        changed: Result<CampaignView, ApiError>,
    ) -> Result<(), ApiError> {
        match changed {
            Err(err) if err.code == ErrorKind::Conflict => {
                let now = self.console.store().campaign_header(id)?;
                if now.state == CampaignState::Running {
                    Ok(())
                } else {
                    Err(err)
                }
            }
            other => other.map(|_| ()),
        }
    }
}
