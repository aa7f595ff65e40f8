//! A throwaway PostgreSQL cluster for the team-mode store tests: created in a fresh temp folder, served on a
//! free port of 127.0.0.1, stopped and deleted when dropped, or when xtask is interrupted.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::util::{self, output_of, TempDir};

/// Where the store tests look for the server.
pub const DATABASE_URL_VAR: &str = "OTA_CONSOLE_TEST_DATABASE_URL";

/// A shell command prefix that runs the cluster's `pg_ctl` on its data folder (as its owner): the outage test
/// stops the server with `$CTL -m fast -w stop` and brings it back with `$CTL -w restart`.
pub const CONTROL_VAR: &str = "OTA_CONSOLE_TEST_POSTGRES_CTL";

/// The environment that points the store tests at `database_url`, if any.
pub fn database_env(database_url: Option<&str>) -> Option<(&'static str, &str)> {
    database_url.map(|url| (DATABASE_URL_VAR, url))
}

/// The bootstrap superuser, so tests may create a database each.
const ROLE: &str = "ota";
const DATABASE: &str = "ota_test";
/// initdb and postgres refuse to run as root; Debian's package creates this system user to run them as.
const SERVICE_USER: &str = "postgres";
const START_ATTEMPTS: usize = 3;

/// A running cluster; dropping it stops the server and deletes its folder.
pub struct ThrowawayCluster {
    folder: PathBuf,
    port: u16,
    control: String,
}

impl ThrowawayCluster {
    /// Creates the cluster (initdb), starts the server and creates the `ota_test` database.
    pub fn start() -> Result<Self> {
        let started = Instant::now();
        let server = Server::find()?;
        let folder = TempDir::new("xtask-postgres")?;
        let layout = Layout::new(folder.path());
        let mut cluster = Self {
            folder: folder.path().to_path_buf(),
            port: 0,
            control: server.control_command(&layout),
        };
        std::fs::create_dir(&layout.socket_dir)?;
        if let Some(user) = server.user {
            run_quiet(
                Command::new("chown")
                    .args(["-R", &format!("{user}:")])
                    .arg(folder.path()),
            )?;
        }
        stop_live_clusters_on_interrupt()?;
        // Registered before initdb, so a failure (or an interrupt) from here on cleans up too.
        live_clusters().push(Teardown {
            server: server.clone(),
            layout: layout.clone(),
            _folder: folder,
        });

        run_quiet(
            server
                .as_owner("initdb", &layout)
                .arg("-D")
                .arg(&layout.data)
                .args(["-U", ROLE, "--auth=trust", "-E", "UTF8", "--locale=C"])
                // Nothing here needs to survive a crash of the machine.
                .arg("--no-sync"),
        )?;
        // The port is free when picked, not reserved: if something takes it before the server binds it, pick again.
        for attempt in 1..=START_ATTEMPTS {
            cluster.port = free_port()?;
            let _ = std::fs::remove_file(&layout.log);
            match server.start(&layout, cluster.port) {
                Ok(()) => break,
                Err(_) if attempt < START_ATTEMPTS && layout.port_was_taken() => {
                    println!("port {} was taken meanwhile; trying another", cluster.port);
                }
                Err(error) => bail!("{error:#}\n{}", layout.log_tail()),
            }
        }
        run_quiet(server.client("createdb").args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            ROLE,
            DATABASE,
        ]))?;
        println!(
            "PostgreSQL ({}) in {}, port {}: started in {:.1}s",
            server.bin.display(),
            cluster.folder.display(),
            cluster.port,
            started.elapsed().as_secs_f64()
        );
        Ok(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// What [`CONTROL_VAR`] holds for this cluster.
    pub fn control(&self) -> &str {
        &self.control
    }
}

impl Drop for ThrowawayCluster {
    fn drop(&mut self) {
        // Dropping the teardown stops the server and deletes the folder.
        live_clusters().retain(|teardown| teardown.layout.folder != self.folder);
        println!(
            "stopped the PostgreSQL cluster in {}",
            self.folder.display()
        );
    }
}

/// The paths inside a cluster's folder.
#[derive(Clone)]
struct Layout {
    folder: PathBuf,
    data: PathBuf,
    log: PathBuf,
    /// The server's Unix socket goes here rather than /var/run/postgresql, which only the postgres user may write.
    socket_dir: PathBuf,
}

impl Layout {
    fn new(folder: &Path) -> Self {
        Self {
            folder: folder.to_path_buf(),
            data: folder.join("data"),
            log: folder.join("server.log"),
            socket_dir: folder.join("socket"),
        }
    }

    fn port_was_taken(&self) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|log| log.contains("could not bind"))
    }

    fn log_tail(&self) -> String {
        const LINES: usize = 20;
        match std::fs::read_to_string(&self.log) {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(LINES)..].join("\n");
                format!("the end of the server log:\n{tail}")
            }
            Err(error) => format!("no server log at {} ({error})", self.log.display()),
        }
    }
}

/// PostgreSQL's programs, and the user the server side runs as.
#[derive(Clone)]
struct Server {
    bin: PathBuf,
    /// Set when xtask runs as root (as CI does).
    user: Option<&'static str>,
}

impl Server {
    fn find() -> Result<Self> {
        let bin = find_bin_dir().context(
            "PostgreSQL's server programs (initdb, pg_ctl) were not found: install the Debian package \
             postgresql (`cargo xtask test` does when run as root), or put them on PATH",
        )?;
        let user = util::is_root().then_some(SERVICE_USER);
        if user.is_some() {
            if !util::on_path("runuser") {
                bail!("running as root, PostgreSQL must run as `{SERVICE_USER}`, but `runuser` (util-linux) is missing");
            }
            if output_of(Command::new("id").arg(SERVICE_USER)).is_none() {
                bail!(
                    "running as root, PostgreSQL must run as the system user `{SERVICE_USER}`, which is missing \
                     (Debian's postgresql package creates it)"
                );
            }
        }
        Ok(Self { bin, user })
    }

    fn program(&self, name: &str) -> PathBuf {
        self.bin
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }

    /// A program that must run as the cluster's owner; run in its folder, as the owner may not enter ours.
    fn as_owner(&self, name: &str, layout: &Layout) -> Command {
        let mut command = match self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(self.program(name));
                command
            }
            None => Command::new(self.program(name)),
        };
        command.current_dir(&layout.folder);
        command
    }

    /// `pg_ctl` on this cluster as one shell command prefix (paths single-quoted: temp folders hold no quote).
    fn control_command(&self, layout: &Layout) -> String {
        let quote = |p: &Path| format!("'{}'", p.display());
        let owner = match self.user {
            Some(user) => format!("runuser -u {user} -- "),
            None => String::new(),
        };
        format!(
            "cd {} && {owner}{} -D {} -l {}",
            quote(&layout.folder),
            quote(&self.program("pg_ctl")),
            quote(&layout.data),
            quote(&layout.log)
        )
    }

    fn client(&self, name: &str) -> Command {
        Command::new(self.program(name))
    }

    fn start(&self, layout: &Layout, port: u16) -> Result<()> {
        // Durability is worthless in a throwaway cluster; the store tests open a pool each and run in parallel.
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k '{}' \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            layout.socket_dir.display()
        );
        run_quiet(
            self.as_owner("pg_ctl", layout)
                .arg("-D")
                .arg(&layout.data)
                .arg("-l")
                .arg(&layout.log)
                .args(["-w", "-o", &options, "start"]),
        )
    }

    /// Quits without a clean shutdown: the data is about to be deleted. Fails quietly when nothing runs.
    fn stop(&self, layout: &Layout) {
        let _ = self
            .as_owner("pg_ctl", layout)
            .arg("-D")
            .arg(&layout.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// A cluster to stop and delete, kept where the interrupt handler finds it: a signal ends xtask without running
/// destructors, and the server, in a session of its own, would outlive it.
struct Teardown {
    server: Server,
    layout: Layout,
    /// Deleted after the server stops (fields drop after `drop`).
    _folder: TempDir,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        self.server.stop(&self.layout);
    }
}

static LIVE_CLUSTERS: Mutex<Vec<Teardown>> = Mutex::new(Vec::new());

fn live_clusters() -> MutexGuard<'static, Vec<Teardown>> {
    LIVE_CLUSTERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// On Ctrl-C, SIGTERM or SIGHUP: stop every live cluster, then end xtask as the signal would have.
fn stop_live_clusters_on_interrupt() -> Result<()> {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if !*installed {
        ctrlc::set_handler(|| {
            eprintln!("\ninterrupted: stopping the throwaway PostgreSQL cluster");
            live_clusters().clear();
            std::process::exit(130);
        })
        .context("could not install the interrupt handler that stops the PostgreSQL cluster")?;
        *installed = true;
    }
    Ok(())
}

/// The folder of initdb, pg_ctl and postgres. Debian keeps them off PATH in /usr/lib/postgresql/<version>/bin;
/// elsewhere (Homebrew, other distributions) `pg_config --bindir` or PATH finds them.
fn find_bin_dir() -> Option<PathBuf> {
    newest_debian_bin_dir(Path::new("/usr/lib/postgresql"))
        .or_else(|| {
            output_of(Command::new("pg_config").arg("--bindir"))
                .map(|dir| PathBuf::from(dir.trim()))
                .filter(|dir| has_initdb(dir))
        })
        .or_else(|| {
            // Through symlinks: the other programs sit next to the real initdb, not always next to the link.
            let initdb = util::find_on_path("initdb")?.canonicalize().ok()?;
            initdb.parent().map(Path::to_path_buf)
        })
}

fn newest_debian_bin_dir(versions: &Path) -> Option<PathBuf> {
    std::fs::read_dir(versions)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            has_initdb(&bin).then_some((version, bin))
        })
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, bin)| bin)
}

/// "15" is [15], "9.6" is [9, 6]: compared as numbers, so 10 is newer than 9.6.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn has_initdb(bin: &Path) -> bool {
    bin.join(format!("initdb{}", std::env::consts::EXE_SUFFIX))
        .is_file()
}

/// A port nothing listens on now. The server binds it a moment later; another process taking it in between is
/// unlikely, and the start then fails with the log saying so.
fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("could not find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Runs `cmd` with its output captured: shown only when it fails.
fn run_quiet(cmd: &mut Command) -> Result<()> {
    let line = util::describe(cmd);
    println!("$ {line}");
    let output = cmd
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !output.status.success() {
        bail!(
            "`{line}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_debian_version_with_an_initdb_wins() {
        let versions = TempDir::new("xtask-pg-versions").unwrap();
        for (version, with_initdb) in [("9.6", true), ("10", true), ("13", true), ("16", false)] {
            let bin = versions.path().join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            if with_initdb {
                std::fs::write(bin.join("initdb"), "").unwrap();
            }
        }
        std::fs::create_dir(versions.path().join("common")).unwrap();
        assert_eq!(
            newest_debian_bin_dir(versions.path()),
            Some(versions.path().join("13").join("bin"))
        );
        assert_eq!(newest_debian_bin_dir(&versions.path().join("none")), None);
    }

    #[test]
    fn nothing_listens_on_the_free_port() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
    }

    /// About a second. Skipped where PostgreSQL is not installed (`cargo xtask test` installs it on Debian).
    #[test]
    fn a_cluster_serves_its_url_and_is_gone_when_dropped() {
        let Some(bin) = find_bin_dir() else {
            return;
        };
        let cluster = ThrowawayCluster::start().unwrap();
        let answer = output_of(
            Command::new(bin.join("psql"))
                .arg(cluster.url())
                .args(["-XAtc", "select current_user"]),
        );
        assert_eq!(answer.as_deref().map(str::trim), Some(ROLE));
        let (folder, port) = (cluster.folder.clone(), cluster.port);
        drop(cluster);
        assert!(!folder.exists());
        assert!(
            std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
            "the server still answers on port {port}"
        );
    }
}
