//! Tags, cohorts and continuous campaigns (issue 17) against the in-memory cloud: tags are checked and
//! survive a fleet refresh; a static cohort resolves to its list and a dynamic one to its filter's current
//! matches; a continuous campaign takes a device that comes online later, waits for new devices instead
//! of completing, and takes none once closed.

mod support;

use std::time::Duration;

use ota_core::campaign;
use ota_core::campaign::model::{
    CampaignRules, CampaignSettings, CampaignState, CampaignTargets, CampaignView, CampaignWait,
    DeviceKey, NewCampaign,
};
use ota_core::cohort::{self, CohortDefinition, CohortKind, NewCohort};
use ota_core::{Console, DeviceQuery, ErrorKind, StatusFilter};
use support::{ended, run_in_background, wait_until, FakeCloud, Harness, Script};

async fn harness(ids: &[&str]) -> (Harness, i64) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::env::set_var(campaign::lease::LEASE_PERIOD_ENV, "2000"));
    let h = Harness::new(FakeCloud::new(
        ids.iter().map(|id| (*id, Script::succeeds_after(2))),
    ))
    .await;
    let firmware = h.target_firmware();
    (h, firmware)
}

fn key(h: &Harness, id: &str) -> DeviceKey {
    DeviceKey {
        account_id: h.account.id,
        device_id: id.into(),
    }
}

fn tags_of(h: &Harness, id: &str) -> Vec<String> {
    h.console
        .store()
        .device(h.account.id, id)
        .expect("read")
        .expect("cached")
        .tags
}

fn ids(console: &Console, query: &DeviceQuery) -> Vec<String> {
    let mut ids: Vec<String> = console
        .store()
        .matching_devices(query)
        .expect("query")
        .into_iter()
        .map(|d| d.id)
        .collect();
    ids.sort();
    ids
}

fn settings() -> CampaignSettings {
    CampaignSettings {
        waves: vec![100.0],
        concurrency: 10,
        requests_per_second: 1_000.0,
        failure_threshold_percent: 100.0,
        ..CampaignSettings::default()
    }
}

fn new_campaign(firmware_id: i64, targets: CampaignTargets, continuous: bool) -> NewCampaign {
    NewCampaign {
        name: "continuous".into(),
        firmware_id,
        targets,
        settings: settings(),
        rules: Some(CampaignRules {
            continuous,
            ..CampaignRules::default()
        }),
    }
}

fn strings(tags: &[&str]) -> Vec<String> {
    tags.iter().map(|t| t.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_checked_and_survive_a_fleet_refresh() {
    let (h, _) = harness(&["cam-1", "cam-2", "cam-3"]).await;
    let c = &h.console;

    // Invalid names are refused whole, nothing written.
    for bad in ["", "two words", "a,b", "x/y", &"t".repeat(41)] {
        let err = cohort::tag_devices(c, &[key(&h, "cam-1")], &strings(&[bad]), &[]).unwrap_err();
        assert_eq!(err.code, ErrorKind::Validation, "{bad:?}: {err:?}");
    }
    assert!(tags_of(&h, "cam-1").is_empty());
    // A device not in the cache is refused too.
    let err = cohort::tag_devices(c, &[key(&h, "nope")], &strings(&["beta"]), &[]).unwrap_err();
    assert_eq!(err.code, ErrorKind::NotFound);

    let changed = cohort::tag_devices(
        c,
        &[key(&h, "cam-1"), key(&h, "cam-2")],
        &strings(&[" beta ", "site:north", "beta"]),
        &[],
    )
    .expect("tag");
    assert_eq!(changed, 2);
    assert_eq!(tags_of(&h, "cam-1"), ["beta", "site:north"]);
    // Tagging again changes nothing; removing changes the device that had it.
    assert_eq!(
        cohort::tag_devices(c, &[key(&h, "cam-1")], &strings(&["beta"]), &[]).unwrap(),
        0
    );
    assert_eq!(
        cohort::tag_devices(c, &[key(&h, "cam-2")], &[], &strings(&["site:north"])).unwrap(),
        1
    );

    // A refresh rewrites the cached rows; the tags stay.
    h.cloud.set_online("cam-1", false);
    c.refresh_fleet().await.expect("refresh");
    let cam1 = c.store().device(h.account.id, "cam-1").unwrap().unwrap();
    assert!(!cam1.online, "the refresh did rewrite the row");
    assert_eq!(cam1.tags, ["beta", "site:north"]);
    assert_eq!(tags_of(&h, "cam-2"), ["beta"]);

    // The list's pages carry the tags and filter by them.
    let tagged = DeviceQuery {
        tag: Some("beta".into()),
        ..DeviceQuery::default()
    };
    assert_eq!(ids(c, &tagged), ["cam-1", "cam-2"]);
    let page = c.store().query_devices(&tagged).unwrap();
    assert_eq!(page.matching, 2);
    assert!(page.rows.iter().all(|d| d.tags.contains(&"beta".into())));
    let online_beta = DeviceQuery {
        status: StatusFilter::Online,
        ..tagged
    };
    assert_eq!(ids(c, &online_beta), ["cam-2"]);
    let counts: Vec<(String, u32)> = cohort::list_tags(c)
        .unwrap()
        .into_iter()
        .map(|t| (t.tag, t.count))
        .collect();
    assert_eq!(
        counts,
        [("beta".to_string(), 2), ("site:north".to_string(), 1)]
    );
    let audited = c
        .store()
        .audit_entries(100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "devices.tag")
        .count();
    assert!(audited >= 3, "every tag change is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_and_dynamic_cohorts_resolve_to_their_devices() {
    let (h, firmware_id) = harness(&["cam-1", "cam-2", "cam-3", "cam-4"]).await;
    let c = &h.console;
    cohort::tag_devices(
        c,
        &[key(&h, "cam-1"), key(&h, "cam-2")],
        &strings(&["beta"]),
        &[],
    )
    .unwrap();

    let fixed = cohort::create_cohort(
        c,
        &NewCohort {
            name: "Pilot".into(),
            definition: CohortDefinition::Static {
                devices: vec![key(&h, "cam-3"), key(&h, "cam-4")],
            },
        },
    )
    .expect("static cohort");
    assert_eq!((fixed.kind, fixed.device_count), (CohortKind::Static, 2));
    let beta = cohort::create_cohort(
        c,
        &NewCohort {
            name: "Beta".into(),
            definition: CohortDefinition::Dynamic {
                query: DeviceQuery {
                    tag: Some("beta".into()),
                    ..DeviceQuery::default()
                },
            },
        },
    )
    .expect("dynamic cohort");
    assert_eq!((beta.kind, beta.device_count), (CohortKind::Dynamic, 2));
    // Names are unique, and 1–80 characters.
    for name in ["Beta", "", &"n".repeat(81)] {
        let err = cohort::create_cohort(
            c,
            &NewCohort {
                name: name.into(),
                definition: CohortDefinition::Static {
                    devices: vec![key(&h, "cam-1")],
                },
            },
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorKind::Validation, "{name:?}");
    }

    let in_cohort = |id: i64| DeviceQuery {
        cohort_id: Some(id),
        ..DeviceQuery::default()
    };
    assert_eq!(ids(c, &in_cohort(fixed.id)), ["cam-3", "cam-4"]);
    assert_eq!(ids(c, &in_cohort(beta.id)), ["cam-1", "cam-2"]);

    // The dynamic cohort follows the tags; the static one keeps its list.
    cohort::tag_devices(c, &[key(&h, "cam-3")], &strings(&["beta"]), &[]).unwrap();
    cohort::tag_devices(c, &[key(&h, "cam-1")], &[], &strings(&["beta"])).unwrap();
    assert_eq!(ids(c, &in_cohort(beta.id)), ["cam-2", "cam-3"]);
    assert_eq!(ids(c, &in_cohort(fixed.id)), ["cam-3", "cam-4"]);
    assert_eq!(cohort::find_cohort(c, "Beta").unwrap().device_count, 2);
    let detail = cohort::cohort_detail(c, &beta.id.to_string()).unwrap();
    assert_eq!(detail.devices.matching, 2);

    // A campaign on a cohort takes the cohort's devices now.
    let on = |id| CampaignTargets::Cohort { cohort_id: id };
    let pre = campaign::preflight(c, &new_campaign(firmware_id, on(beta.id), false)).unwrap();
    assert_eq!((pre.targets, pre.eligible), (2, 2));
    let pre = campaign::preflight(c, &new_campaign(firmware_id, on(fixed.id), false)).unwrap();
    assert_eq!((pre.targets, pre.eligible), (2, 2));

    // Continuous only over something that can gain devices.
    let err = campaign::create(c, &new_campaign(firmware_id, on(fixed.id), true)).unwrap_err();
    assert_eq!(err.code, ErrorKind::Validation, "{err:?}");
    let listed = CampaignTargets::Devices {
        devices: vec![key(&h, "cam-1")],
    };
    let err = campaign::create(c, &new_campaign(firmware_id, listed, true)).unwrap_err();
    assert_eq!(err.code, ErrorKind::Validation, "{err:?}");

    // A cohort an active campaign targets cannot be deleted; once it ended, it can.
    let running = campaign::create(c, &new_campaign(firmware_id, on(beta.id), true)).unwrap();
    assert!(running.rules.continuous);
    assert_eq!(running.cohort_id, Some(beta.id));
    let err = cohort::delete_cohort(c, beta.id).unwrap_err();
    assert_eq!(err.code, ErrorKind::Validation);
    campaign::cancel(c, running.id).unwrap();
    cohort::delete_cohort(c, beta.id).expect("delete once the campaign ended");
    assert_eq!(c.store().campaign_view(running.id).unwrap().cohort_id, None);
}

fn view(console: &Console, id: i64) -> CampaignView {
    console.store().campaign_view(id).expect("campaign view")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuous_campaign_takes_a_device_that_comes_online_later_and_none_once_closed() {
    let (h, firmware_id) = harness(&["cam-1", "cam-2", "cam-3", "cam-4"]).await;
    let c = h.console.clone();
    h.cloud.set_online("cam-3", false);
    h.cloud.set_online("cam-4", false);
    c.refresh_fleet().await.unwrap();
    let online = CampaignTargets::Filter {
        query: DeviceQuery {
            status: StatusFilter::Online,
            ..DeviceQuery::default()
        },
    };
    let created = campaign::create(&c, &new_campaign(firmware_id, online, true)).unwrap();
    assert_eq!(created.counts.pending, 2);
    campaign::start(&c, created.id).unwrap();
    let id = created.id;
    let runner = run_in_background(&c, id);

    // Its devices done, it does not complete: it waits for new devices.
    wait_until("cam-1 and cam-2 updated", || {
        view(&c, id).counts.succeeded == 2
    })
    .await;
    wait_until("waiting for new devices", || {
        view(&c, id).waiting == Some(CampaignWait::WaitingForDevices)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(view(&c, id).state, CampaignState::Running);
    assert!(!runner.is_finished(), "a continuous campaign keeps running");

    // cam-3 comes online: the next refresh makes it match, and it joins and is started (the cloud is
    // frozen, so its update stays in progress).
    h.cloud.freeze(true);
    h.cloud.set_online("cam-3", true);
    c.refresh_fleet().await.unwrap();
    wait_until("cam-3 joined and started", || {
        view(&c, id).counts.in_flight == 1 && h.cloud.starts("cam-3") == 1
    })
    .await;
    assert_eq!(
        view(&c, id).waiting,
        None,
        "not waiting while cam-3 updates"
    );
    let joined: Vec<String> = c
        .store()
        .audit_entries(200)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "campaign.devices_added")
        .filter_map(|e| e.detail)
        .collect();
    assert!(
        joined.iter().any(|d| d.contains("cam-3")),
        "the join is audited: {joined:?}"
    );

    // Closed while cam-3 still updates: the campaign runs on until cam-3 ends, and cam-4 coming online
    // meanwhile does not join.
    let closed = campaign::close(&c, id).expect("close");
    assert!(closed.closed);
    assert_eq!(
        campaign::close(&c, id).unwrap_err().code,
        ErrorKind::Conflict
    );
    h.cloud.set_online("cam-4", true);
    c.refresh_fleet().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!runner.is_finished(), "cam-3 is still updating");
    assert!(!campaign::devices(&c, id, &Default::default())
        .unwrap()
        .rows
        .iter()
        .any(|r| r.device_id == "cam-4"));
    h.cloud.freeze(false);
    let done = ended(runner).await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert!(done.closed);
    assert_eq!(done.counts.succeeded, 3);
    assert_eq!(h.cloud.starts("cam-4"), 0, "nothing joins once closed");
    assert!(!campaign::devices(&c, id, &Default::default())
        .unwrap()
        .rows
        .iter()
        .any(|r| r.device_id == "cam-4"));
    assert!(c
        .store()
        .audit_entries(200)
        .unwrap()
        .iter()
        .any(|e| e.action == "campaign.close" && e.result == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuous_campaign_over_an_empty_tag_cohort_takes_devices_as_they_are_tagged() {
    let (h, firmware_id) = harness(&["cam-1", "cam-2"]).await;
    let c = h.console.clone();
    let later = cohort::create_cohort(
        &c,
        &NewCohort {
            name: "Later".into(),
            definition: CohortDefinition::Dynamic {
                query: DeviceQuery {
                    tag: Some("later".into()),
                    ..DeviceQuery::default()
                },
            },
        },
    )
    .unwrap();
    assert_eq!(later.device_count, 0);
    let targets = CampaignTargets::Cohort {
        cohort_id: later.id,
    };
    // Nothing matches yet: refused unless continuous, which waits for devices.
    let err = campaign::create(&c, &new_campaign(firmware_id, targets.clone(), false)).unwrap_err();
    assert_eq!(err.code, ErrorKind::Validation);
    let created = campaign::create(&c, &new_campaign(firmware_id, targets, true)).unwrap();
    assert_eq!(created.counts.total, 0);
    let id = created.id;
    campaign::start(&c, id).unwrap();
    let runner = run_in_background(&c, id);
    wait_until("waiting for new devices", || {
        view(&c, id).waiting == Some(CampaignWait::WaitingForDevices)
    })
    .await;

    // Tagged in this process or another: the fleet generation moves and the runner takes it.
    cohort::tag_devices(&c, &[key(&h, "cam-2")], &strings(&["later"]), &[]).unwrap();
    wait_until("cam-2 updated", || view(&c, id).counts.succeeded == 1).await;
    assert_eq!(h.cloud.starts("cam-1"), 0, "cam-1 is not tagged");

    campaign::close(&c, id).unwrap();
    let done = ended(runner).await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 1);
}
