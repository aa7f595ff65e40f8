//! Campaign rules through the real `otactl`: the flags are kept and shown by `campaign status --json`, a
//! campaign that requires approval cannot start, its creator's approval is refused and another user's
//! (`OTA_CONSOLE_USER`) accepted, both in the audit log; a second campaign over the same cameras leaves
//! them out as "in campaign N"; a duration that is not one is refused as a usage error. A campaign with a
//! bake and a manual gate run by `otactl campaign start` bakes wave 1, waits at the gate with wave 2
//! untouched, and completes after `otactl campaign approve-wave`.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn approval_is_refused_to_the_creator_and_accepted_from_another_user() {
    let sim = sim_at(60, 23, 300.0).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    let ana = [
        ("OTA_CONSOLE_USER", "ana"),
        ("OTA_CONSOLE_TIME_SCALE", "300"),
    ];
    let bob = [
        ("OTA_CONSOLE_USER", "bob"),
        ("OTA_CONSOLE_TIME_SCALE", "300"),
    ];
    let as_user = |env: &[(&str, &str)], args: &[&str]| {
        let mut full = vec!["--sim-url", url.as_str()];
        full.extend_from_slice(args);
        otactl_with_env(data.path(), &full, None, env)
    };

    let campaign = camera_campaign(
        data.path(),
        &url,
        &ana,
        "Needs a second pair of eyes",
        &[
            "--waves",
            "50,100",
            "--require-approval",
            "--bake",
            "30m",
            "--gate",
            "manual",
            "--device-timeout",
            "2h",
            "--no-verify",
        ],
    );
    let id = campaign.id.as_str();
    let status = json_of(&as_user(&ana, &["campaign", "status", id, "--json"]));
    let view = &status["campaign"];
    assert_eq!(view["state"], "awaiting_approval", "{view}");
    assert_eq!(view["waiting"]["kind"], "awaiting_approval");
    assert_eq!(view["createdBy"], "ana");
    let rules = &view["rules"];
    assert_eq!(rules["bakeSecs"], 1800);
    assert_eq!(rules["gate"], "manual");
    assert_eq!(rules["deviceTimeoutSecs"], 7200);
    assert_eq!(rules["verifyVersion"], false);
    assert_eq!(rules["requireApproval"], true);

    // Not approved: it does not start, whoever asks.
    let start = as_user(&bob, &["campaign", "start", id]);
    assert_eq!(start.status.code(), Some(1), "{}", stderr(&start));
    assert!(
        stderr(&start).contains("awaiting approval"),
        "{}",
        stderr(&start)
    );
    assert!(vicohome_starts(&url).await.is_empty(), "nothing was sent");

    // Its creator cannot approve it.
    let own = as_user(&ana, &["campaign", "approve", id]);
    assert_eq!(own.status.code(), Some(1), "{}", stderr(&own));
    assert!(
        stderr(&own).contains(&format!("You (ana) created campaign #{id}"))
            && stderr(&own).contains("must be approved by another user"),
        "{}",
        stderr(&own)
    );

    // Another user can, once.
    let approved = as_user(&bob, &["campaign", "approve", id]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    let view = json_of(&as_user(&ana, &["campaign", "status", id, "--json"]))["campaign"].clone();
    assert_eq!(view["state"], "ready");
    assert_eq!(view["approvedBy"], "bob");
    let again = as_user(&bob, &["campaign", "approve", id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already approved by bob"),
        "{}",
        stderr(&again)
    );

    let audit = as_user(
        &ana,
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--action",
            "campaign.approve",
        ],
    );
    let audit = succeeded(&audit);
    assert!(
        audit
            .lines()
            .any(|l| l.contains(",ana,") && l.contains(",error,")),
        "{audit}"
    );
    assert!(
        audit
            .lines()
            .any(|l| l.contains(",bob,") && l.contains(",ok,")),
        "{audit}"
    );

    // Overlap: the same cameras in a second campaign are left out, naming the first.
    let firmware = view["firmwareId"].to_string();
    let preflight = json_of(&as_user(
        &ana,
        &[
            "campaign",
            "preflight",
            "--firmware",
            &firmware,
            "--cloud",
            "vicohome",
            "--online",
            "--json",
        ],
    ));
    assert_eq!(preflight["eligible"], 0, "{preflight}");
    let left_out = preflight["excluded"].as_array().unwrap();
    assert!(!left_out.is_empty());
    assert!(
        left_out
            .iter()
            .filter(|e| e["reason"] == "in_campaign")
            .all(|e| e["detail"] == format!("in campaign {id}")),
        "{preflight}"
    );
    assert_eq!(
        left_out
            .iter()
            .filter(|e| e["reason"] == "in_campaign")
            .count() as u64,
        campaign.eligible,
        "every camera of campaign {id}: {preflight}"
    );

    // A duration is a number and a unit.
    let wrong = as_user(
        &ana,
        &[
            "campaign",
            "preflight",
            "--firmware",
            &firmware,
            "--bake",
            "2 weeks",
        ],
    );
    assert_eq!(wrong.status.code(), Some(2), "a usage error");
    assert!(
        stderr(&wrong).contains("not a duration"),
        "{}",
        stderr(&wrong)
    );
}

/// `otactl campaign status ID --json` on the simulator, parsed.
fn status_of(
    data: &std::path::Path,
    url: &str,
    env: &[(&str, &str)],
    id: &str,
) -> serde_json::Value {
    json_of(&otactl_with_env(
        data,
        &["--sim-url", url, "campaign", "status", id, "--json"],
        None,
        env,
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_baked_wave_then_waits_at_the_manual_gate_until_approve_wave() {
    let sim = sim_at(60, 29, 300.0).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    let env = [("OTA_CONSOLE_TIME_SCALE", "300")];
    let CameraCampaign { id, eligible } = camera_campaign(
        data.path(),
        &url,
        &env,
        "Gated",
        &[
            "--waves", "50,100", "--gate", "manual", "--bake", "3s", "--rate", "200",
        ],
    );
    let mut runner = otactl_command(
        data.path(),
        &["--sim-url", &url, "campaign", "start", &id],
        &env,
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("start otactl campaign start");

    // Wave 1 bakes, then waits at the gate; the status says so all along.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut saw_baking = false;
    let at_gate = loop {
        let status = status_of(data.path(), &url, &env, &id);
        match status["campaign"]["waiting"]["kind"].as_str() {
            Some("baking") => saw_baking = true,
            Some("awaiting_wave_approval") => break status,
            _ => {}
        }
        assert!(
            std::time::Instant::now() < give_up,
            "never reached the gate: {status}"
        );
        assert!(
            runner.try_wait().unwrap().is_none(),
            "the runner ended early: {status}"
        );
    };
    assert!(saw_baking, "wave 1 baked before the gate");
    assert_eq!(at_gate["campaign"]["waiting"]["wave"], 1);
    let waves = at_gate["waves"].as_array().unwrap();
    let first = waves[0]["counts"]["total"].as_u64().unwrap();
    assert_eq!(waves[0]["counts"]["succeeded"].as_u64(), Some(first));
    assert_eq!(
        waves[1]["counts"]["pending"], waves[1]["counts"]["total"],
        "wave 2 has not begun: {at_gate}"
    );
    assert_eq!(
        vicohome_starts(&url).await.len() as u64,
        first,
        "only wave 1 was started"
    );

    let approved = otactl_with_env(
        data.path(),
        &["--sim-url", &url, "campaign", "approve-wave", &id],
        None,
        &env,
    );
    assert!(succeeded(&approved).contains("wave 2 approved"));
    let ended = loop {
        if let Some(status) = runner.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "the campaign never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(ended.success());
    let done = status_of(data.path(), &url, &env, &id);
    assert_eq!(done["campaign"]["state"], "completed", "{done}");
    assert_eq!(
        done["campaign"]["counts"]["succeeded"].as_u64(),
        Some(eligible)
    );
    assert!(vicohome_starts(&url).await.values().all(|&n| n == 1));
}
