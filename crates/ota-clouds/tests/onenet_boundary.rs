//! The OneNET download at the webview boundary and on disk, with hostile input: ids that are not
//! OneNET's (`../../x`, `1/2`, a multibyte or `..` MD5) are refused before anything is written, the
//! task comes from the core's own check (a record edited on disk is refused too), a `.part` that is a
//! link is never followed, a `.part` another handle holds is "busy", and a cloud that asks for endless
//! retries or a day-long `Retry-After` does not park the fetch. Service level (`onenet::service`) on a
//! Console whose data folder sits next to an "outside" folder that must stay untouched.

mod common;
mod fake;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::onenet::{create_task, fetch_unpaused, finished, sim_task};
use common::{assert_refused, fleet_of, sandbox_console};
use fake::onenet::{device, scripted, TOKEN};
use fake::{Fake, Reply};
use ota_clouds::http::{client_builder, HttpConfig};
use ota_clouds::onenet::fetch::{self, FetchEnd, FetchOptions, PauseSignal};
use ota_clouds::onenet::service::{self, OnenetTarget};
use ota_clouds::onenet::OnenetClient;
use ota_clouds::retry::{MAX_ATTEMPTS, MAX_SINGLE_WAIT, MAX_TOTAL_WAIT};
use ota_core::onenet::{OnenetDownloadProgress, OnenetTask, OnenetTaskType};
use ota_core::{Account, ApiError, Console, ErrorKind};
use ota_sim::SimHandle;
use serde_json::{json, Value};

const MIB: u64 = 1024 * 1024;
const PRECIOUS: &[u8] = b"precious: not the console's to write";

/// `root/data` is the app's data folder; `root/outside` holds a file no download may touch. One OneNET
/// device of the fleet has a fresh application task, located as the window does.
struct Setup {
    sim: SimHandle,
    root: tempfile::TempDir,
    console: Arc<Console>,
    accounts: Vec<Account>,
    dev_id: String,
    /// The simulator's record of the task.
    created: Value,
    target: OnenetTarget,
}

impl Setup {
    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn victim(&self) -> PathBuf {
        self.root.path().join("outside").join("victim.txt")
    }

    /// Checks as the window does (the core keeps the task it finds).
    async fn check(&self) -> OnenetTask {
        let device = self
            .target
            .device_ref(
                &self.dev_id,
                OnenetTaskType::Application,
                Default::default(),
            )
            .unwrap();
        service::check_saved(&self.target, &device, &self.data())
            .await
            .unwrap()
            .task
            .expect("the check finds the task")
    }

    /// Fetches the device's task as the window does: the device id and the task type, nothing else.
    async fn fetch(&self) -> Result<FetchEnd, ApiError> {
        self.fetch_as(&self.dev_id).await
    }

    /// As [`Setup::fetch`], naming `dev_id` as the device.
    async fn fetch_as(&self, dev_id: &str) -> Result<FetchEnd, ApiError> {
        service::fetch_checked(
            &self.console,
            &self.target,
            dev_id,
            OnenetTaskType::Application,
            &self.data(),
            &FetchOptions::default(),
            PauseSignal::never(),
            &mut |_: OnenetDownloadProgress| {},
        )
        .await
    }

    async fn assert_nothing_downloaded(&self) {
        let served = sim_task(&self.sim, &self.created["task_id"]).await["bytes_served"]
            .as_u64()
            .unwrap();
        assert_eq!(served, 0, "nothing downloaded");
    }

    /// Checks that nothing was written outside the app's folders, and stops the simulator.
    async fn end(self) {
        assert_nothing_outside_the_app_folders(&self);
        self.sim.shutdown().await;
    }
}

/// The set-up with a task of `size` bytes for the fleet's first OneNET device.
async fn setup(size: u64) -> Setup {
    let sim = common::sim(60, 5, 1.0).await;
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("outside")).unwrap();
    std::fs::write(root.path().join("outside").join("victim.txt"), PRECIOUS).unwrap();
    let (console, accounts) = sandbox_console(&sim, &root.path().join("data")).await;
    let dev_id = fleet_of(&sim, "onenet").await[0]["id"]
        .as_str()
        .expect("a OneNET device")
        .to_string();
    let created = create_task(&sim, &dev_id, size).await;
    let target = service::locate(&console, &accounts, &dev_id).await.unwrap();
    Setup {
        sim,
        root,
        console,
        accounts,
        dev_id,
        created,
        target,
    }
}

/// Every file under `dir` (links not followed) with its bytes.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                found.insert(path.clone(), std::fs::read(&path).unwrap());
            } else {
                found.insert(path, b"<link>".to_vec());
            }
        }
    }
    found
}

/// Nothing but the victim outside the data folder, untouched; inside it, only the database and the
/// folders of numeric device ids.
fn assert_nothing_outside_the_app_folders(setup: &Setup) {
    let root = setup.root.path();
    for (path, bytes) in files_under(root) {
        let inside = path.strip_prefix(setup.data());
        match inside {
            Err(_) => {
                assert_eq!(
                    path,
                    setup.victim(),
                    "a file appeared outside the data folder"
                );
                assert_eq!(bytes, PRECIOUS, "the file outside was changed");
            }
            Ok(rel) => {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let allowed = match parts.as_slice() {
                    [file] => file.starts_with("ota-console") || file.ends_with(".db"),
                    [d, o, dev_id, _] => {
                        d == "downloads"
                            && o == "onenet"
                            && dev_id.bytes().all(|b| b.is_ascii_digit())
                    }
                    _ => false,
                };
                assert!(
                    allowed,
                    "unexpected file in the data folder: {}",
                    rel.display()
                );
            }
        }
    }
}

fn kept_record(setup: &Setup) -> PathBuf {
    setup
        .data()
        .join("downloads")
        .join("onenet")
        .join(&setup.dev_id)
        .join("task-2.json")
}

/// Changes one field of the kept task on disk, as someone editing the data folder would.
fn edit_kept_task(setup: &Setup, field: &str, value: &str) {
    let path = kept_record(setup);
    let mut record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    record["task"][field] = json!(value);
    std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
}

/// The task's package gets no place in the data folder: the refusal says `words`.
fn assert_no_download_path(setup: &Setup, task: &OnenetTask, words: &str) {
    assert_refused(
        &service::download_path(&setup.data(), task).unwrap_err(),
        words,
    );
}

/// 32 bytes whose 8th byte falls inside a character: `&md5[..8]` panicked on it.
fn multibyte_md5() -> String {
    let md5 = format!("a{}a", "é".repeat(15));
    assert_eq!(md5.len(), 32);
    assert!(!md5.is_char_boundary(8));
    md5
}

#[tokio::test]
async fn a_dev_id_that_is_not_a_number_never_reaches_the_disk() {
    let setup = setup(4096).await;
    let task = setup.check().await;
    for hostile in [
        "../../x",
        "1/2",
        "..",
        "../../../outside/victim.txt",
        "1\u{0}2",
    ] {
        let err = setup.fetch_as(hostile).await.unwrap_err();
        assert_refused(&err, "is not a OneNET device id");
        let located = service::locate(&setup.console, &setup.accounts, hostile)
            .await
            .err()
            .expect("refused");
        assert_refused(&located, "is not a OneNET device id");
        let aimed = OnenetTask {
            dev_id: hostile.to_string(),
            ..task.clone()
        };
        assert_no_download_path(&setup, &aimed, "is not a OneNET device id");
        let out = setup.root.path().join("outside").join("fw.bin");
        let err = service::fetch(
            &setup.console,
            &setup.target,
            &aimed,
            &out,
            &FetchOptions::default(),
            PauseSignal::never(),
            &mut |_| {},
        )
        .await
        .unwrap_err();
        assert_refused(&err, "is not a OneNET device id");
    }
    setup.assert_nothing_downloaded().await;
    setup.end().await;
}

#[tokio::test]
async fn a_multibyte_md5_is_refused_in_words_not_a_panic() {
    let setup = setup(4096).await;
    let task = setup.check().await;
    let hostile = OnenetTask {
        md5: multibyte_md5(),
        ..task.clone()
    };
    assert_no_download_path(&setup, &hostile, "is not an MD5");
    // A kept task edited on disk is refused as well: the fetch trusts only ids OneNET hands out.
    edit_kept_task(&setup, "md5", &multibyte_md5());
    let err = setup.fetch().await.unwrap_err();
    assert_refused(&err, "is not an MD5");
    setup.assert_nothing_downloaded().await;
    // Checking again replaces the edited record, and the download goes through.
    setup.check().await;
    assert_eq!(finished(setup.fetch().await.unwrap()).md5, task.md5);
    setup.end().await;
}

#[tokio::test]
async fn an_md5_or_token_with_dots_and_slashes_is_refused() {
    let setup = setup(4096).await;
    let task = setup.check().await;
    let climbing = format!("{}ab", "../".repeat(10));
    assert_eq!(climbing.len(), 32);
    let hostile = OnenetTask {
        md5: climbing.clone(),
        ..task.clone()
    };
    assert_no_download_path(&setup, &hostile, "is not an MD5");
    edit_kept_task(&setup, "md5", &climbing);
    assert_refused(&setup.fetch().await.unwrap_err(), "is not an MD5");
    setup.check().await;
    edit_kept_task(&setup, "token", "ota_../../../../_sim/admin");
    assert_refused(&setup.fetch().await.unwrap_err(), "download token");
    setup.check().await;
    edit_kept_task(&setup, "targetVersion", "../../../outside/x");
    assert_refused(&setup.fetch().await.unwrap_err(), "is not a version");
    setup.assert_nothing_downloaded().await;
    setup.end().await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_part_file_that_is_a_link_is_not_followed_and_its_target_stays_untouched() {
    let setup = setup(4096).await;
    let task = setup.check().await;
    let out = service::download_path(&setup.data(), &task).unwrap();
    let (part, meta) = fetch::partial_paths(&out);

    std::os::unix::fs::symlink(setup.victim(), &part).unwrap();
    let err = setup.fetch().await.unwrap_err();
    assert_refused(&err, "is a symbolic link");
    assert_eq!(std::fs::read(setup.victim()).unwrap(), PRECIOUS);
    assert_eq!(
        fetch::saved_offset(&out, &task),
        0,
        "a link is not saved bytes"
    );
    std::fs::remove_file(&part).unwrap();

    // The offsets file the same: it is replaced whole, never written through a link.
    std::os::unix::fs::symlink(setup.victim(), &meta).unwrap();
    let err = setup.fetch().await.unwrap_err();
    assert_refused(&err, "is a symbolic link");
    assert_eq!(std::fs::read(setup.victim()).unwrap(), PRECIOUS);
    setup.assert_nothing_downloaded().await;
    std::fs::remove_file(&meta).unwrap();

    // A link where the device's folder belongs cannot move the download elsewhere.
    let dev_dir = out.parent().unwrap().to_path_buf();
    std::fs::remove_dir_all(&dev_dir).unwrap();
    std::os::unix::fs::symlink(setup.root.path().join("outside"), &dev_dir).unwrap();
    let err = setup.fetch().await.unwrap_err();
    assert_refused(&err, "is outside the folder it belongs in");
    std::fs::remove_file(&dev_dir).unwrap();

    setup.end().await;
}

#[tokio::test]
async fn a_part_file_held_by_another_download_is_busy_until_it_lets_go() {
    let setup = setup(2 * MIB).await;
    let task = setup.check().await;
    let out = service::download_path(&setup.data(), &task).unwrap();
    let (part, _) = fetch::partial_paths(&out);
    std::fs::write(&part, b"").unwrap();
    // Another process's fetch (otactl) holds the partial file.
    let other = std::fs::OpenOptions::new().write(true).open(&part).unwrap();
    other.try_lock().unwrap();

    let err = setup.fetch().await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Conflict, "{}", err.display_line());
    assert!(
        err.message.contains("is being written by another download"),
        "{}",
        err.message
    );
    assert!(!out.exists());

    drop(other);
    let outcome = finished(setup.fetch().await.unwrap());
    assert_eq!(outcome.md5, task.md5);
    assert!(outcome.report.accepted, "{}", outcome.report.message);
    assert!(!part.exists(), "the partial file took its real name");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the package is private");
    }
    setup.end().await;
}

#[tokio::test]
async fn without_a_kept_task_the_fetch_asks_onenet_itself() {
    let setup = setup(4096).await;
    let dev_id = &setup.dev_id;
    let outcome = finished(setup.fetch().await.unwrap());
    assert_eq!(outcome.md5, setup.created["md5"].as_str().unwrap());
    let md5_prefix: String = outcome.md5.chars().take(8).collect();
    assert!(
        outcome
            .path
            .ends_with(&format!("{dev_id}/V9.1-{md5_prefix}.bin")),
        "{}",
        outcome.path
    );
    setup.end().await;
}

// ---- waits a cloud asks for: tokio's paused clock, against a scripted OneNET (`fake::onenet`) ----

fn scripted_client(fake: &Fake) -> OnenetClient {
    // No idle connections kept: their timers would let the paused clock jump while the writer thread
    // syncs, and the elapsed time must count only the fetch's own waits.
    let http = client_builder(&HttpConfig::default())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    fake::onenet::client(fake, http)
}

/// One scripted fetch that failed: the task, where it wrote (its folder kept alive), how long it took.
struct FailedFetch {
    task: OnenetTask,
    _dir: tempfile::TempDir,
    out: PathBuf,
    elapsed: std::time::Duration,
    err: ApiError,
}

/// Fetches the scripted server's task into a fresh folder, expecting the fetch to fail.
async fn failed_scripted_fetch(fake: &Fake) -> FailedFetch {
    let client = scripted_client(fake);
    let task = client.check_task(&device()).await.unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fw.bin");
    let started = tokio::time::Instant::now();
    let err = fetch_unpaused(&client, &task, &out, &FetchOptions::default())
        .await
        .unwrap_err();
    FailedFetch {
        task,
        _dir: dir,
        out,
        elapsed: started.elapsed(),
        err,
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_of_a_day_ends_the_fetch_at_once_with_the_wait_in_words() {
    let fake = scripted(
        5,
        0,
        Reply::status(429, "slow down").header("Retry-After", "86400"),
    )
    .await;
    let run = failed_scripted_fetch(&fake).await;
    let err = run.err;
    assert!(
        run.elapsed < MAX_SINGLE_WAIT,
        "no day-long wait: {:?}",
        run.elapsed
    );
    assert_eq!(err.code, ErrorKind::RateLimited);
    assert_eq!(err.retry_after_secs, Some(86_400));
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("wait 86400 s")),
        "{:?}",
        err.hint
    );
    let downloads = fake.calls(&format!("/ota/south/download/{TOKEN}"));
    assert_eq!(downloads.len(), 1, "not retried against the cloud's wish");
}

#[tokio::test(start_paused = true)]
async fn a_task_asking_for_endless_retries_a_day_apart_is_capped() {
    let fake = scripted(1_000_000, 86_400, Reply::status(503, "busy")).await;
    let run = failed_scripted_fetch(&fake).await;
    assert_eq!(run.task.interval_secs, Some(86_400));
    let (err, elapsed) = (run.err, run.elapsed);
    assert!(
        err.message
            .contains("The download stopped at 0 of 32 bytes"),
        "{}",
        err.message
    );
    let attempts = fake.calls(&format!("/ota/south/download/{TOKEN}")).len() as u32;
    assert!(
        (2..=MAX_ATTEMPTS).contains(&attempts),
        "{attempts} attempts"
    );
    // Each wait is the task's day-long interval capped at one minute, and the total cap ended the run.
    assert_eq!(
        elapsed,
        MAX_SINGLE_WAIT * (attempts - 1),
        "{attempts} attempts in {elapsed:?}"
    );
    assert!(elapsed <= MAX_TOTAL_WAIT, "bounded in all: {elapsed:?}");
    assert!(
        fetch::saved_offset(&run.out, &run.task) == 0 && !run.out.exists(),
        "nothing unverified carries the name"
    );
}
