//! Issue 17 through the real `otactl` against the simulator: `campaign plan` matches what the campaign
//! then does (a maintenance window that opens later: no device starts before the planned time, each wave
//! has the planned devices, the second wave waits for the first plus its bake); campaign templates (save,
//! load with a flag overriding it, replace, list, delete, audited); `fleet versions` (the cache's counts,
//! a camera updated by a campaign moves to the new version, the CSV export).

mod common;

use std::collections::BTreeMap;

use common::*;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_matches_what_the_campaign_does_with_a_window_that_opens_later() {
    let desk = SimDesk::new(60, 31).await;
    let data = &desk.data;
    let run = |args: &[&str]| desk.run(args);
    let firmware = desk.camera_firmware();

    // A window (in whole minutes, as windows are) that opens at the next minute, at least 5 s from now.
    let now = now_ms();
    let mut opens = (now / 60_000 + 1) * 60_000;
    if opens - now < 5_000 {
        opens += 60_000;
    }
    let start = (opens / 60_000).rem_euclid(1_440);
    let end = (start + 30) % 1_440;
    let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    let window = format!("{}-{}", hhmm(start), hhmm(end));
    let flags = [
        "--firmware",
        &firmware,
        "--cloud",
        "vicohome",
        "--online",
        "--waves",
        "50,100",
        "--bake",
        "2s",
        "--rate",
        "200",
        "--window",
        &window,
        "--utc-offset",
        "0",
    ];
    let mut plan_args = vec!["campaign", "plan"];
    plan_args.extend_from_slice(&flags);
    let text = succeeded(&run(&plan_args));
    assert!(
        text.contains("wave 1:")
            && text.contains("wave 2:")
            && text.contains("when the window opens"),
        "{text}"
    );
    plan_args.push("--json");
    let plan = json_of(&run(&plan_args));
    let waves = plan["waves"].as_array().expect("waves");
    assert_eq!(waves.len(), 2, "{plan}");
    assert_eq!(waves[0]["earliestStartMs"].as_i64(), Some(opens), "{plan}");
    let window_words = format!("{}–{} UTC+00:00", hhmm(start), hhmm(end));
    assert_eq!(
        waves[0]["after"],
        format!("when the window opens ({window_words})")
    );
    assert!(waves[1]["earliestStartMs"].is_null());
    assert_eq!(
        waves[1]["after"],
        format!("wave 1 done + 2s, inside the window ({window_words})")
    );
    let listed = json_of(&run(&["campaign", "list", "--json"]));
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(0),
        "a plan creates nothing"
    );

    let mut create = vec!["campaign", "create", "--name", "Planned", "--json"];
    create.extend_from_slice(&flags);
    let created = json_of(&run(&create));
    let id = created["id"].as_i64().expect("id").to_string();
    assert_eq!(
        created["counts"]["pending"], plan["preflight"]["eligible"],
        "{created}"
    );
    // Runs until the window opens and the campaign completes.
    let started = run(&["campaign", "start", &id]);
    assert!(started.status.success(), "{}", stderr(&started));

    let status = json_of(&run(&["campaign", "status", &id, "--json"]));
    assert_eq!(status["campaign"]["state"], "completed", "{status}");
    let done_waves = status["waves"].as_array().expect("waves");
    for (planned, done) in waves.iter().zip(done_waves) {
        assert_eq!(
            planned["devices"], done["counts"]["total"],
            "plan {plan}\nstatus {status}"
        );
    }

    // When each device started, from the store: none before the window opened, and wave 2 only after
    // wave 1 was done and baked.
    let conn = rusqlite::Connection::open(ota_core::paths::database_path(data.path()))
        .expect("the database opens");
    let mut by_wave: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let mut stmt = conn
        .prepare(
            "SELECT wave, MIN(started_at), MAX(finished_at) FROM campaign_devices
             WHERE campaign_id = ?1 AND wave IS NOT NULL GROUP BY wave",
        )
        .unwrap();
    let rows = stmt
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    for row in rows {
        let (wave, first_start, last_end): (i64, i64, i64) = row.unwrap();
        by_wave.insert(wave, (first_start, last_end));
    }
    let (first_start, wave1_done) = by_wave[&0];
    assert!(
        first_start >= opens,
        "a device started {} ms before the planned {opens}",
        opens - first_start
    );
    let (second_start, _) = by_wave[&1];
    assert!(
        second_start >= wave1_done + 2_000,
        "wave 2 started {} ms after wave 1 was done, within its 2s bake",
        second_start - wave1_done
    );
    // The audit log agrees: the first start is at or after the opening.
    let audit = json_of(&run(&[
        "audit",
        "export",
        "--format",
        "json",
        "--action",
        "campaign.device.start",
    ]));
    let first_audited = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["at"].as_i64())
        .min()
        .expect("starts were audited");
    assert!(first_audited >= opens, "{first_audited} < {opens}");
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_are_saved_loaded_with_overrides_listed_and_deleted() {
    let desk = SimDesk::new(40, 37).await;
    let run = |args: &[&str]| desk.run(args);
    let firmware = desk.camera_firmware();
    let target = [
        "--firmware",
        firmware.as_str(),
        "--cloud",
        "vicohome",
        "--online",
    ];
    let with = |head: &[&'static str], rest: &[&'static str]| -> Vec<String> {
        head.iter()
            .chain(target.iter())
            .chain(rest)
            .map(|s| s.to_string())
            .collect()
    };
    let run_owned = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&refs)
    };

    let saved = run_owned(with(
        &["campaign", "plan"],
        &[
            "--waves",
            "10,100",
            "--concurrency",
            "7",
            "--bake",
            "30m",
            "--gate",
            "manual",
            "--window",
            "22:00-04:00",
            "--window-days",
            "0,1",
            "--utc-offset",
            "60",
            "--no-verify",
            "--save-template",
            "nightly",
        ],
    ));
    assert!(
        succeeded(&saved).contains("saved template “nightly”"),
        "{}",
        stdout(&saved)
    );
    let templates = json_of(&run(&["campaign", "templates", "--json"]));
    let list = templates.as_array().expect("a list");
    assert_eq!(list.len(), 1, "{templates}");
    let t = &list[0];
    assert_eq!(t["name"], "nightly");
    assert_eq!(t["settings"]["concurrency"], 7);
    assert_eq!(t["settings"]["window"]["startMinute"], 22 * 60);
    assert_eq!(t["rules"]["bakeSecs"], 1800);
    assert_eq!(t["rules"]["gate"], "manual");
    assert_eq!(t["rules"]["verifyVersion"], false);

    // Loaded, with the flags given overriding it (concurrency, the window's offset, verification).
    let created = json_of(&run_owned(with(
        &["campaign", "create", "--name", "From nightly", "--json"],
        &[
            "--template",
            "nightly",
            "--concurrency",
            "9",
            "--utc-offset",
            "120",
            "--verify",
        ],
    )));
    let settings = &created["settings"];
    assert_eq!(settings["concurrency"], 9, "{created}");
    assert_eq!(settings["waves"], serde_json::json!([10.0, 100.0]));
    assert_eq!(settings["window"]["startMinute"], 22 * 60);
    assert_eq!(settings["window"]["endMinute"], 4 * 60);
    assert_eq!(settings["window"]["days"], serde_json::json!([0, 1]));
    assert_eq!(settings["window"]["utcOffsetMinutes"], 120);
    assert_eq!(created["rules"]["bakeSecs"], 1800);
    assert_eq!(created["rules"]["gate"], "manual");
    assert_eq!(
        created["rules"]["verifyVersion"], true,
        "--verify overrides"
    );
    let id = created["id"].as_i64().expect("id").to_string();
    succeeded(&run(&["campaign", "cancel", &id]));

    // Without a template the defaults still apply.
    let plain = json_of(&run_owned(with(
        &["campaign", "create", "--name", "Plain", "--json"],
        &[],
    )));
    assert_eq!(plain["settings"]["concurrency"], 50, "{plain}");
    assert_eq!(
        plain["settings"]["waves"],
        serde_json::json!([1.0, 10.0, 100.0])
    );
    assert!(plain["settings"]["window"].is_null());
    assert_eq!(plain["rules"]["bakeSecs"], 0);
    assert_eq!(plain["rules"]["gate"], "auto");
    let id = plain["id"].as_i64().expect("id").to_string();
    succeeded(&run(&["campaign", "cancel", &id]));

    // Saving under the same name replaces it.
    succeeded(&run_owned(with(
        &["campaign", "plan"],
        &[
            "--template",
            "nightly",
            "--threshold",
            "3",
            "--save-template",
            "nightly",
        ],
    )));
    let templates = json_of(&run(&["campaign", "templates", "--json"]));
    let list = templates.as_array().expect("a list");
    assert_eq!(list.len(), 1, "replaced, not added: {templates}");
    assert_eq!(list[0]["settings"]["failureThresholdPercent"], 3.0);
    assert_eq!(
        list[0]["settings"]["concurrency"], 7,
        "kept from the template"
    );
    let text = succeeded(&run(&["campaign", "templates"]));
    assert!(
        text.contains("nightly: ") && text.contains("gate manual"),
        "{text}"
    );

    succeeded(&run(&["campaign", "template-delete", "nightly"]));
    let templates = json_of(&run(&["campaign", "templates", "--json"]));
    assert_eq!(templates.as_array().map(Vec::len), Some(0));
    let again = run(&["campaign", "template-delete", "nightly"]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("No campaign template named “nightly”"),
        "{}",
        stderr(&again)
    );
    let missing = run_owned(with(&["campaign", "plan"], &["--template", "nightly"]));
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));

    let audit = json_of(&run(&[
        "audit",
        "export",
        "--format",
        "json",
        "--action",
        "campaign.template.",
    ]));
    let actions: Vec<(String, String)> = audit
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["result"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let count = |action: &str, result: &str| {
        actions
            .iter()
            .filter(|(a, r)| a == action && r == result)
            .count()
    };
    assert_eq!(count("campaign.template.save", "ok"), 2, "{actions:?}");
    assert_eq!(count("campaign.template.delete", "ok"), 1, "{actions:?}");
    assert_eq!(count("campaign.template.delete", "error"), 1, "{actions:?}");
}

/// Cameras per (model, firmware) in the simulator's fleet.
async fn sim_cameras(url: &str) -> BTreeMap<(String, String), u64> {
    let mut counts = BTreeMap::new();
    for d in fleet_of(url, "vicohome").await {
        let key = (
            d["model"].as_str().unwrap_or_default().to_string(),
            d["firmware"].as_str().unwrap_or_default().to_string(),
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

/// Cameras per (model, version) in `otactl fleet versions --json`.
fn listed_cameras(versions: &serde_json::Value) -> BTreeMap<(String, String), u64> {
    let mut counts = BTreeMap::new();
    for m in versions["models"].as_array().expect("models") {
        if m["cloud"] != "vicohome" {
            continue;
        }
        for v in m["versions"].as_array().expect("versions") {
            counts.insert(
                (
                    m["model"].as_str().unwrap_or_default().to_string(),
                    v["version"].as_str().unwrap_or_default().to_string(),
                ),
                v["devices"].as_u64().expect("a count"),
            );
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn fleet_versions_count_the_cache_and_follow_a_campaign() {
    let desk = SimDesk::new(40, 41).await;
    let (url, data, env) = (desk.url.clone(), &desk.data, desk.env);
    let run = |args: &[&str]| desk.run(args);
    let CameraCampaign { id, eligible } = camera_campaign(
        data.path(),
        &url,
        &env,
        "To 9.9.0",
        &["--waves", "100", "--rate", "200"],
    );
    assert!(eligible > 0);
    let before = json_of(&run(&["fleet", "versions", "--json"]));
    assert_eq!(listed_cameras(&before), sim_cameras(&url).await, "{before}");
    let cached = json_of(&run(&["devices", "list", "--cached", "--json"]));
    let total: u64 = before["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["total"].as_u64().unwrap())
        .sum();
    assert_eq!(
        Some(total),
        cached.as_array().map(|a| a.len() as u64),
        "every cached device is counted"
    );
    let on_new = |v: &serde_json::Value| -> u64 {
        listed_cameras(v)
            .iter()
            .filter(|((_, version), _)| version == "9.9.0")
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(on_new(&before), 0);

    succeeded(&run(&["campaign", "start", &id]));
    succeeded(&run(&["devices", "list", "--json"]));
    let csv = data.path().join("versions.csv");
    let after = json_of(&run(&[
        "fleet",
        "versions",
        "--json",
        "--csv",
        csv.to_str().unwrap(),
    ]));
    assert_eq!(listed_cameras(&after), sim_cameras(&url).await, "{after}");
    assert_eq!(on_new(&after), eligible, "{after}");
    for m in after["models"].as_array().unwrap() {
        if m["cloud"] == "vicohome"
            && listed_cameras(&after).contains_key(&(
                m["model"].as_str().unwrap().to_string(),
                "9.9.0".to_string(),
            ))
        {
            assert_eq!(m["newest"], "9.9.0", "{m}");
        }
    }
    let success = after["successByVersion"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["cloud"] == "vicohome" && s["version"] == "9.9.0")
        .cloned()
        .expect("9.9.0 outcomes");
    assert_eq!(success["succeeded"].as_u64(), Some(eligible), "{success}");
    assert_eq!(success["failed"], 0);
    assert!(success["attempts"].as_u64().unwrap() >= eligible);

    let text = std::fs::read_to_string(&csv).expect("the CSV was written");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("cloud,model,version,devices,newest,behind")
    );
    let rows: usize = after["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["versions"].as_array().unwrap().len())
        .sum();
    assert_eq!(lines.count(), rows);
    assert!(text.contains(",9.9.0,"), "{text}");

    let shown = succeeded(&run(&["fleet", "versions"]));
    assert!(shown.contains("newest 9.9.0"), "{shown}");
}
