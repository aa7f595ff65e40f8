//! `cargo xtask run | test | bench | bundle | postgres`: one entry point for developers and CI.

mod bundle;
mod e2e;
mod keychain;
mod postgres;
mod system;
mod ui;
mod util;

use std::env;
use std::process::{Command as Process, ExitCode};

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use util::{repo_root, Steps};

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "Developer tasks for OTA Console"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Check prerequisites, build the UI and start the desktop app (extra arguments go to the app).
    Run {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        app_args: Vec<String>,
    },
    /// Run every check CI runs, in order, stopping at the first failure.
    Test {
        /// Leave out the end-to-end tests of the window.
        #[arg(long)]
        skip_e2e: bool,
        /// Run only one group of checks.
        #[arg(long, value_enum)]
        only: Option<Group>,
    },
    /// Benchmarks at fleet scale (release build), each against a baseline measured in the same run;
    /// prints the table and writes bench/RESULTS.md.
    Bench {
        /// Smaller sizes, for checking the bench itself.
        #[arg(long)]
        quick: bool,
    },
    /// Build the installers with Tauri's bundler (.deb, and the AppImage when its tools can be had, on Linux;
    /// .app and .dmg on macOS; .msi and NSIS .exe on Windows), then on Linux smoke-test the .deb.
    Bundle {
        /// Bundle a debug build: much quicker, for checking the packaging; not for shipping.
        #[arg(long)]
        debug: bool,
        /// Skip the smoke test of the .deb (unpack it, start it under Xvfb, check the device grid).
        #[arg(long)]
        no_smoke: bool,
        /// Do not try the AppImage.
        #[arg(long)]
        no_appimage: bool,
    },
    /// Start a throwaway PostgreSQL cluster like the one `cargo xtask test` gives the store tests, print
    /// OTA_CONSOLE_TEST_DATABASE_URL=… for running tests by hand, and keep it until Ctrl-C or SIGTERM.
    Postgres,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Group {
    /// UI typecheck, unit tests and build.
    Ui,
    /// rustfmt, clippy and the workspace tests.
    Rust,
    /// The WebdriverIO tests of the real window.
    E2e,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Run { app_args } => run_app(&app_args),
        Task::Test { skip_e2e, only } => test(skip_e2e, only),
        Task::Bench { quick } => bench(quick),
        Task::Bundle {
            debug,
            no_smoke,
            no_appimage,
        } => {
            let mut steps = Steps::default();
            let options = bundle::Options {
                debug,
                smoke: !no_smoke,
                appimage: !no_appimage,
            };
            let result = bundle::bundle(&mut steps, &options);
            steps.print_summary();
            result
        }
        Task::Postgres => serve_postgres(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nerror: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_app(app_args: &[String]) -> Result<()> {
    system::ensure_prerequisites(system::APP_PACKAGES)?;
    system::ensure_node()?;
    ui::install_if_stale(&ui::ui_dir())?;
    ui::npm_run("build")?;

    let mut app = util::cargo();
    app.args(["run", "-p", "ota-console", "--"])
        .args(app_args)
        .current_dir(repo_root());
    let headless = cfg!(target_os = "linux")
        && env::var_os("DISPLAY").is_none()
        && env::var_os("WAYLAND_DISPLAY").is_none();
    if !headless {
        return util::run(&mut app);
    }
    if !util::on_path("xvfb-run") {
        println!("no display (DISPLAY and WAYLAND_DISPLAY are unset) and no xvfb-run: the window will fail to open");
        return util::run(&mut app);
    }
    println!("no display (DISPLAY and WAYLAND_DISPLAY are unset): running under xvfb-run, the window is invisible");
    let mut under_xvfb = Process::new("xvfb-run");
    under_xvfb
        .arg("-a")
        .arg(app.get_program())
        .args(app.get_args())
        .current_dir(repo_root());
    util::run(&mut under_xvfb)
}

fn serve_postgres() -> Result<()> {
    if cfg!(target_os = "linux") {
        system::ensure_prerequisites(&[system::POSTGRES_PACKAGE])?;
    }
    let cluster = postgres::ThrowawayCluster::start()?;
    println!("{}={}", postgres::DATABASE_URL_VAR, cluster.url());
    println!("{}=\"{}\"", postgres::CONTROL_VAR, cluster.control());
    println!("Ctrl-C stops it and deletes its folder.");
    // The interrupt handler stops the cluster and ends the process.
    loop {
        std::thread::park();
    }
}

fn test(skip_e2e: bool, only: Option<Group>) -> Result<()> {
    let wants = |group: Group| match only {
        Some(only) => only == group,
        None => group != Group::E2e || !skip_e2e,
    };
    let (ui, rust, e2e) = (wants(Group::Ui), wants(Group::Rust), wants(Group::E2e));
    let mut steps = Steps::default();
    let result = test_steps(&mut steps, ui, rust, e2e);
    steps.print_summary();
    result
}

/// `cargo xtask bench`: the release build of `ota-bench`, run from the repository root. On Linux the window
/// is measured first, in the release app `cargo xtask bundle` makes (the same `tauri build` of the .deb, no
/// smoke test), so the figures and the installer's size are of what ships. The team figures run release
/// `otactl serve` processes over a throwaway PostgreSQL cluster started for the run.
fn bench(quick: bool) -> Result<()> {
    let root = repo_root();
    let release = bundle::target_dir().join("release");
    let mut steps = Steps::default();
    let window_json = bundle::target_dir().join("window-bench.json");
    let mut window_failure = None;
    let result = (|| {
        // A stale file must not pass for this run's figures.
        let _ = std::fs::remove_file(&window_json);
        let linux = cfg!(target_os = "linux");
        if linux {
            steps.run("system packages", || {
                system::ensure_prerequisites(
                    &[system::APP_PACKAGES, system::TEST_PACKAGES].concat(),
                )
            })?;
            steps.run("ui: install + build", || {
                system::ensure_node()?;
                ui::install_if_stale(&ui::ui_dir())?;
                ui::npm_run("build")
            })?;
            steps.run("tauri build (release): deb", || bundle::tauri_build(false))?;
            steps.run("e2e: tauri-driver + WebDriver", e2e::ensure_drivers)?;
        }
        steps.run("build ota-bench + simulator + otactl (release)", || {
            util::run(
                util::cargo()
                    .args([
                        "build",
                        "--release",
                        "-p",
                        "ota-bench",
                        "-p",
                        "ota-sim",
                        "-p",
                        "otactl",
                    ])
                    .current_dir(&root),
            )
        })?;
        if linux {
            // Optional: without the window the other figures are still worth having (the table says
            // "not measured"); the task fails at the end all the same.
            window_failure = steps
                .attempt(
                    "window: release app, warm/cold start, search, scroll",
                    || {
                        let deb = bundle::deb_in(false)?;
                        e2e::run_window_bench(&window_json, quick, &release, &deb)
                    },
                )
                .err();
        }
        // The team figures: `otactl serve` runners over one PostgreSQL; it lives until the benchmarks end.
        let cluster = steps.run(
            "postgres: throwaway cluster",
            postgres::ThrowawayCluster::start,
        )?;
        let database_url = cluster.url();
        steps.run("benchmarks", || {
            let mut command = std::process::Command::new(release.join("ota-bench"));
            command
                .args(["--out", "bench/RESULTS.md"])
                .envs(postgres::database_env(Some(&database_url)))
                .arg("--window")
                .arg(&window_json)
                .current_dir(&root);
            if quick {
                command.arg("--quick");
            }
            util::run(&mut command)
        })
    })();
    steps.print_summary();
    match window_failure {
        Some(error) if result.is_ok() => Err(error.context("the window bench failed")),
        _ => result,
    }
}

/// Prints the count of (fault × flow) cases `crates/ota-clouds/tests/fault_suite.rs` ran, and each
/// case's outcome under the fault.
fn print_fault_suite(summary: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(summary).map_err(|e| {
        anyhow::anyhow!(
            "the fault suite wrote no summary to {} ({e}); did it run?",
            summary.display()
        )
    })?;
    println!("{text}");
    Ok(())
}

/// The CI pipeline; the Rust and e2e groups need the built UI, because the app embeds `ui/dist` at compile time.
fn test_steps(steps: &mut Steps, ui: bool, rust: bool, e2e: bool) -> Result<()> {
    let root = repo_root();
    if rust || e2e {
        let packages = [system::APP_PACKAGES, system::TEST_PACKAGES].concat();
        steps.run("system packages", || {
            system::ensure_prerequisites(&packages)
        })?;
    }
    steps.run("ui: npm ci", || {
        system::ensure_node()?;
        ui::clean_install(&ui::ui_dir())
    })?;
    if ui {
        steps.run("ui: typecheck", || ui::npm_run("typecheck"))?;
        steps.run("ui: unit tests", ui::unit_tests)?;
    }
    steps.run("ui: build", || ui::npm_run("build"))?;
    // For the team-mode store tests; it lives until the steps end.
    let cluster = if rust || e2e {
        Some(steps.run(
            "postgres: throwaway cluster",
            postgres::ThrowawayCluster::start,
        )?)
    } else {
        None
    };
    let database_url = cluster.as_ref().map(postgres::ThrowawayCluster::url);
    let database_control = cluster
        .as_ref()
        .map(|c| (postgres::CONTROL_VAR, c.control().to_string()));
    if rust {
        steps.run("cargo fmt --check", || {
            util::run(
                util::cargo()
                    .args(["fmt", "--all", "--", "--check"])
                    .current_dir(&root),
            )
        })?;
        steps.run("cargo clippy", || {
            util::run(
                util::cargo()
                    .args([
                        "clippy",
                        "--workspace",
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ])
                    .current_dir(&root),
            )
        })?;
        // A stale count must not pass for this run's.
        let fault_summary = root.join("target").join("fault-suite.txt");
        let _ = std::fs::remove_file(&fault_summary);
        steps.run("cargo test (in a private keychain)", || {
            keychain::run_in_session(
                util::cargo()
                    .args(["test", "--workspace"])
                    .envs(postgres::database_env(database_url.as_deref()))
                    .envs(database_control.clone())
                    .current_dir(&root),
            )
        })?;
        steps.run("fault suite summary", || print_fault_suite(&fault_summary))?;
        // The same store and engine tests again, every store opened on the throwaway PostgreSQL: the
        // team back end must behave as the desk's SQLite file does.
        steps.run("cargo test -p ota-core on PostgreSQL (team store)", || {
            keychain::run_in_session(
                util::cargo()
                    .args(["test", "-p", "ota-core"])
                    .envs(postgres::database_env(database_url.as_deref()))
                    .env("OTA_CONSOLE_TEST_STORE", "postgres")
                    .current_dir(&root),
            )
        })?;
    }
    if e2e {
        steps.run("e2e: tauri-driver + WebDriver", e2e::ensure_drivers)?;
        steps.run("e2e: build app + simulator", e2e::build_binaries)?;
        steps.run("e2e: webdriver tests", || {
            e2e::run_tests(database_url.as_deref())
        })?;
        // About a minute: the debug .deb reuses the e2e build; proves the installer's layout and that it starts.
        if cfg!(target_os = "linux") {
            steps.run("e2e: debug .deb (tauri build --debug)", || {
                bundle::tauri_build(true)
            })?;
            steps.run("e2e: smoke test of the .deb", || {
                bundle::smoke_test(&bundle::deb_in(true)?)
            })?;
        }
    }
    Ok(())
}
