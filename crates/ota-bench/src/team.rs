//! Team mode's pace: one camera campaign on a team's PostgreSQL, run by 1, 2 and then 4 `otactl serve`
//! processes (the release build next to this one, each with a data folder of its own, as on separate
//! machines), while the simulator answers every cloud request [`LATENCY`] late: its `slow` fault switched
//! on for every device, its delay set to the latency.
//!
//! Each run has a fresh database and a fresh simulator, and is set up with `otactl` as a team would do it
//! (fleet listed, firmware added and published, campaign created and `campaign start`ed, which in team mode
//! only sets it running). The clock starts when the first runner is started and stops at the campaign's
//! own `finished_at`. The baseline is what the campaign's request-rate cap allows, as for the desk's
//! campaign (`campaign.rs`): the requests the simulator served over the run divided by the rate, here as a
//! pace in devices per second.
//!
//! A campaign has one coordinator at a time (its lease holder); the other runners follow it and take it
//! over when its lease expires. More runners are there for failover, not for a faster campaign, so the
//! three figures should be about equal: the rows show that the followers cost the coordinator nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ota_core::campaign::model::{CampaignState, CampaignView};
use ota_core::db::{PgTarget, TEST_DATABASE_URL_ENV};
use ota_core::Store;
use serde_json::Value;

use crate::campaign::{SimProcess, TIME_SCALE};
use crate::report::{Report, Row};

/// How late the simulator answers every cloud request (real time).
const LATENCY: Duration = Duration::from_millis(50);
/// How many runners share the campaign, one run each.
const RUNNERS: [usize; 3] = [1, 2, 4];
/// A run should reach at least this share of what the rate cap allows, however many runners follow it
/// (the desk's campaign row asks for ≤ 1.10 × the cap's time, about the same).
const TARGET_RATIO: f64 = 0.90;

/// One run's size: the campaign's cameras, its concurrency and its request-rate cap.
///
/// The cap, not the latency, has to bound a runner that works well: `concurrency` devices at once, each
/// waiting [`LATENCY`] for every answer, could send up to `concurrency / LATENCY` requests a second
/// (2 000/s for 100 at 50 ms, less the short waits between status polls), about 4 × the cap. At ~4
/// requests a camera (status read, start, a status poll or two, the version read back), 2 000 cameras at
/// 500/s take about 16 s.
struct Scale {
    cameras: usize,
    concurrency: u32,
    rate: f64,
}

const FULL: Scale = Scale {
    cameras: 2_000,
    concurrency: 100,
    rate: 500.0,
};
const QUICK: Scale = Scale {
    cameras: 300,
    concurrency: 100,
    rate: 500.0,
};

/// The simulator's fleet for about `cameras` online, charged cameras (a campaign of `--online` cameras
/// takes them all): about 31 in 100 of its devices are (seed 5).
fn fleet_size(cameras: usize) -> usize {
    cameras * 33 / 10
}

/// The Vicohome sandbox camera firmware the campaign rolls out.
const FIRMWARE_VERSION: &str = "99.1.0";

fn what(runners: usize, cameras: u64) -> String {
    let runners = match runners {
        1 => "1 `otactl serve` runner".to_string(),
        n => format!(
            "{n} `otactl serve` runners (1 coordinating, {} following)",
            n - 1
        ),
    };
    format!(
        "Team campaign: {cameras} cameras, {runners} on one PostgreSQL, {} ms a request",
        LATENCY.as_millis()
    )
}

pub async fn run(report: &mut Report, quick: bool) -> anyhow::Result<()> {
    let scale = if quick { QUICK } else { FULL };
    let not_measured = |report: &mut Report, why: &str| {
        for runners in RUNNERS {
            report.not_measured(&what(runners, scale.cameras as u64), why);
        }
    };
    // Each run gets a fresh database on this cluster (`fresh_test_database`).
    if std::env::var(TEST_DATABASE_URL_ENV).map_or(true, |url| url.trim().is_empty()) {
        not_measured(
            report,
            &format!(
                "no PostgreSQL ({TEST_DATABASE_URL_ENV} unset; `cargo xtask bench` starts one)"
            ),
        );
        return Ok(());
    };
    let otactl = std::env::current_exe()?.with_file_name("otactl");
    if !otactl.exists() {
        not_measured(
            report,
            &format!(
                "no {} (`cargo build --release -p otactl`)",
                otactl.display()
            ),
        );
        return Ok(());
    }
    let mut runs = Vec::new();
    for runners in RUNNERS {
        let run = measure(&otactl, runners, &scale)
            .await
            .with_context(|| format!("the team campaign with {runners} runner(s)"))?;
        println!(
            "team: {runners} runner(s): {} cameras in {:.1} s, {} requests (set up in {:.1} s)",
            run.cameras,
            run.wall.as_secs_f64(),
            run.requests,
            run.set_up.as_secs_f64()
        );
        runs.push((runners, run));
    }
    for (runners, run) in &runs {
        let pace = run.cameras as f64 / run.wall.as_secs_f64();
        let allowed = run.cameras as f64 * scale.rate / run.requests.max(1) as f64;
        let ratio = pace / allowed;
        report.add(Row {
            what: what(*runners, run.cameras),
            measured: format!("{pace:.1} devices/s"),
            baseline: format!(
                "{allowed:.1} devices/s ({} req at {}/s)",
                run.requests, scale.rate
            ),
            ratio: Some(ratio),
            target: format!("≥ {TARGET_RATIO:.2} × what the rate cap allows"),
            met: Some(ratio >= TARGET_RATIO),
        });
    }
    let describe = |(runners, run): &(usize, Run)| {
        format!(
            "{runners}: {:.1} s, {} requests ({:.2} a camera), run by {}",
            run.wall.as_secs_f64(),
            run.requests,
            run.requests as f64 / run.cameras as f64,
            run.coordinators.join(" and ")
        )
    };
    let set_up = |pick: fn(f64, f64) -> f64, start: f64| {
        runs.iter()
            .map(|(_, r)| r.set_up.as_secs_f64())
            .fold(start, pick)
    };
    report.note(format!(
        "Team campaign: one camera campaign (one wave, concurrency {}, cap {}/s) on a fresh database of a \
         throwaway PostgreSQL, run by 1, 2 and 4 `otactl serve` processes (release build, each with its \
         own data folder, as on separate machines), the simulator answering every cloud request {} ms \
         late (its `slow` fault on every device; checked: every request of the run was late, every \
         camera started exactly once). Timed from the first runner's start to the campaign's \
         `finished_at`; the baseline is the requests the simulator served in that time divided by the \
         cap. A campaign has one coordinator at a time, its lease holder; the other runners follow it, \
         send no cloud request, and take the campaign over if the holder dies or stops. So more runners \
         give failover, not a faster campaign: the paces with 1, 2 and 4 runners are the same within \
         noise, and the rows show only that following costs the coordinator nothing. By runner count: \
         {}. Setting each run up (a simulator of {} devices, listing it, publishing, creating the \
         campaign with `otactl`) took {:.1}–{:.1} s, outside the figures.",
        scale.concurrency,
        scale.rate,
        LATENCY.as_millis(),
        runs.iter().map(describe).collect::<Vec<_>>().join("; "),
        fleet_size(scale.cameras),
        set_up(f64::min, f64::INFINITY),
        set_up(f64::max, 0.0),
    ));
    Ok(())
}

/// What one run measured.
struct Run {
    /// The campaign's cameras (every one started exactly once, checked).
    cameras: u64,
    /// From the first runner's start to the campaign's end.
    wall: Duration,
    /// Cloud requests the simulator served meanwhile.
    requests: u64,
    /// The runners that held the campaign, in order (one, unless a lease was lost).
    coordinators: Vec<String>,
    set_up: Duration,
}

/// One run: a fresh database and simulator, the campaign set up with `otactl`, `runners` runners
/// started, and the campaign followed to its end.
async fn measure(otactl: &Path, runners: usize, scale: &Scale) -> anyhow::Result<Run> {
    let set_up_started = Instant::now();
    let database = tokio::task::spawn_blocking(ota_core::db::fresh_test_database).await??;
    let sim = SimProcess::spawn(fleet_size(scale.cameras), Some(LATENCY)).await?;
    let desk = tempfile::tempdir()?;
    let team = Team {
        otactl: otactl.to_path_buf(),
        database: database.clone(),
        sim_url: sim.url.clone(),
    };
    let (id, cameras) = set_up(&team, desk.path(), scale)?;

    let http = reqwest::Client::new();
    let requests_before = sim.last_call(&http).await?;
    // The log then holds the run's requests only; its sequence numbers go on.
    http.delete(format!("{}/_sim/log", sim.url))
        .send()
        .await?
        .error_for_status()?;
    // From now on every cloud request is answered LATENCY late.
    http.post(format!("{}/_sim/faults", sim.url))
        .json(&serde_json::json!({"kind": "slow", "target": "*"}))
        .send()
        .await?
        .error_for_status()?;
    let set_up = set_up_started.elapsed();

    let store = {
        let database = database.clone();
        let folder = desk.path().join("watch");
        tokio::task::spawn_blocking(move || {
            Store::open_postgres(PgTarget::parse(&database, None)?, &folder)
        })
        .await??
    };
    let started_ms = ota_core::now_ms();
    let mut serves = Vec::new();
    for n in 0..runners {
        serves.push(team.serve(&format!("bench-{}", n + 1))?);
    }
    let limit = Duration::from_secs_f64((cameras as f64 * 5.0 / scale.rate * 5.0).max(120.0));
    let ended = until_ended(&store, id, limit, &mut serves).await;
    let requests = sim.last_call(&http).await?.saturating_sub(requests_before);
    // Every request of the run (the log was emptied before it) was answered LATENCY late.
    let log: Value = http
        .get(format!("{}/_sim/log", sim.url))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let logged = log.as_array().map_or(&[][..], Vec::as_slice);
    let late = logged.iter().filter(|call| call["slow"] == true).count();
    let starts: Value = http
        .get(format!("{}/_sim/starts", sim.url))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    for serve in &mut serves {
        serve.stop();
    }
    for serve in &mut serves {
        serve.wait(Duration::from_secs(20)).await;
    }
    sim.close().await;
    let view = ended.map_err(|e| {
        let said: Vec<String> = serves.iter().map(Serve::said).collect();
        e.context(said.join("\n"))
    })?;

    anyhow::ensure!(
        view.state == CampaignState::Completed,
        "the campaign ended {:?}: {:?}",
        view.state,
        view.reason
    );
    let started = starts["vicohome"].as_object().cloned().unwrap_or_default();
    anyhow::ensure!(
        started.len() as u64 == cameras && started.values().all(|n| n.as_u64() == Some(1)),
        "{} of {cameras} cameras started, some maybe twice",
        started.len()
    );
    anyhow::ensure!(
        late == logged.len() && logged.len() as u64 == requests,
        "{late} of the {requests} requests were answered late ({} logged)",
        logged.len()
    );
    let finished_ms = view.finished_at.unwrap_or_else(ota_core::now_ms);
    let coordinators = coordinators(&serves, id);
    anyhow::ensure!(
        !coordinators.is_empty(),
        "no runner said it ran the campaign:\n{}",
        serves
            .iter()
            .map(Serve::said)
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(Run {
        cameras,
        wall: Duration::from_millis(finished_ms.saturating_sub(started_ms).max(1) as u64),
        requests,
        coordinators,
        set_up,
    })
}

/// `otactl` of a team: its release build, the team's database, the simulator's clouds.
struct Team {
    otactl: PathBuf,
    database: String,
    sim_url: String,
}

impl Team {
    fn command(&self, data: &Path) -> Command {
        let mut command = Command::new(&self.otactl);
        command
            .arg("--data-dir")
            .arg(data)
            .args(["--sim-url", &self.sim_url])
            .env("OTA_CONSOLE_DATABASE_URL", &self.database)
            .env("OTA_CONSOLE_TIME_SCALE", TIME_SCALE.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        command
    }

    /// Runs `otactl ARGS` on `data` and answers its stdout; an error with both streams if it failed.
    fn ok(&self, data: &Path, args: &[&str]) -> anyhow::Result<String> {
        let out: Output = self.command(data).args(args).output()?;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        anyhow::ensure!(
            out.status.success(),
            "otactl {args:?}: {}\n{}\n{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        Ok(text(&out.stdout))
    }

    /// `otactl serve --name NAME` on a data folder of its own; its stderr goes to a file there.
    fn serve(&self, name: &str) -> anyhow::Result<Serve> {
        let data = tempfile::tempdir()?;
        let said = data.path().join("serve.log");
        let child = self
            .command(data.path())
            .args(["serve", "--name", name])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&said)?)
            .spawn()?;
        Ok(Serve {
            name: name.to_string(),
            child,
            said,
            _data: data,
        })
    }
}

/// Lists the fleet, publishes a camera firmware, creates the campaign of every online camera and sets
/// it running; its id and its cameras.
fn set_up(team: &Team, desk: &Path, scale: &Scale) -> anyhow::Result<(i64, u64)> {
    let json = |out: String| -> anyhow::Result<Value> {
        serde_json::from_str(&out).with_context(|| format!("not JSON: {out}"))
    };
    team.ok(desk, &["devices", "list", "--json"])?;
    let file = desk.join("camera.bin");
    std::fs::write(&file, vec![42u8; 300 * 1024])?;
    let file = file.display().to_string();
    let added = json(team.ok(
        desk,
        &[
            "firmware",
            "add",
            &file,
            "--version",
            FIRMWARE_VERSION,
            "--cloud",
            "vicohome",
            "--json",
        ],
    )?)?;
    let firmware = added["entry"]["id"]
        .as_i64()
        .context("no firmware id")?
        .to_string();
    team.ok(desk, &["firmware", "publish", &firmware])?;
    let (concurrency, rate) = (scale.concurrency.to_string(), scale.rate.to_string());
    let created = json(team.ok(
        desk,
        &[
            "campaign",
            "create",
            "--name",
            "team bench",
            "--firmware",
            &firmware,
            "--cloud",
            "vicohome",
            "--online",
            "--waves",
            "100",
            "--concurrency",
            &concurrency,
            "--rate",
            &rate,
            "--json",
        ],
    )?)?;
    let id = created["id"].as_i64().context("no campaign id")?;
    let cameras = created["counts"]["pending"]
        .as_u64()
        .context("no pending count")?;
    anyhow::ensure!(
        cameras as usize >= scale.cameras * 9 / 10,
        "only {cameras} eligible cameras"
    );
    // Team mode: this only sets it running; the runners run it.
    let started = json(team.ok(desk, &["campaign", "start", &id.to_string(), "--json"])?)?;
    anyhow::ensure!(started["state"] == "running", "not running: {started}");
    Ok((id, cameras))
}

/// Polls the campaign in the team's database until it is no longer running (or `limit` passed, or a
/// runner exited); its final view.
async fn until_ended(
    store: &Store,
    id: i64,
    limit: Duration,
    serves: &mut [Serve],
) -> anyhow::Result<CampaignView> {
    let began = Instant::now();
    loop {
        let view = tokio::task::block_in_place(|| store.campaign_view(id))?;
        if view.state != CampaignState::Running {
            return Ok(view);
        }
        for serve in serves.iter_mut() {
            if let Some(status) = serve.child.try_wait()? {
                anyhow::bail!("a runner exited ({status}) while the campaign ran");
            }
        }
        anyhow::ensure!(
            began.elapsed() < limit,
            "not ended within {limit:?}: {:?}",
            view.counts
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The runners that coordinated campaign `id` (held its lease), as they said on stderr.
fn coordinators(serves: &[Serve], id: i64) -> Vec<String> {
    let (here, took) = (
        format!("campaign {id}: running it here"),
        format!("campaign {id}: took it over"),
    );
    serves
        .iter()
        .filter(|s| {
            let said = s.said();
            said.contains(&here) || said.contains(&took)
        })
        .map(|s| s.name.clone())
        .collect()
}

/// A running `otactl serve`.
struct Serve {
    name: String,
    child: std::process::Child,
    said: PathBuf,
    _data: tempfile::TempDir,
}

impl Serve {
    /// SIGTERM: a graceful stop (leases released).
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-s", "TERM", &self.child.id().to_string()])
                .status();
        }
    }

    /// Waits up to `limit` for it to exit, then kills it.
    async fn wait(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What it said on stderr.
    fn said(&self) -> String {
        std::fs::read_to_string(&self.said).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
