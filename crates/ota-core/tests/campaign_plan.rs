//! `campaign plan` against the in-memory cloud: the plan's waves and first start are what the runner then
//! does — no device starts before the planned start time, each wave has the planned number of devices,
//! and the second wave starts only after the first is done plus its bake, as the plan says.

mod support;

use ota_core::campaign::model::{
    CampaignDeviceQuery, CampaignRules, CampaignSettings, CampaignState, CampaignTargets,
    DeviceKey, NewCampaign,
};
use ota_core::campaign::{self, planning};
use ota_core::now_ms;
use support::{run_to_end, FakeCloud, Harness, Script};

const SIX: [&str; 6] = ["cam-1", "cam-2", "cam-3", "cam-4", "cam-5", "cam-6"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_what_the_runner_does() {
    std::env::set_var(campaign::lease::LEASE_PERIOD_ENV, "2000");
    let h = Harness::new(FakeCloud::new(
        SIX.map(|id| (id, Script::succeeds_after(1))),
    ))
    .await;
    let firmware = h.target_firmware();

    let start_at = now_ms() + 1_500;
    let new = NewCampaign {
        name: "Planned".into(),
        firmware_id: firmware,
        targets: CampaignTargets::Devices {
            devices: SIX
                .iter()
                .map(|id| DeviceKey {
                    account_id: h.account.id,
                    device_id: id.to_string(),
                })
                .collect(),
        },
        settings: CampaignSettings {
            waves: vec![34.0, 100.0],
            requests_per_second: 1_000.0,
            start_at: Some(start_at),
            ..CampaignSettings::default()
        },
        rules: Some(CampaignRules {
            bake_secs: 1,
            ..CampaignRules::default()
        }),
    };
    let plan = planning::plan(&h.console, &new).expect("plan");
    assert_eq!(plan.waves.len(), 2);
    assert_eq!(plan.waves[0].earliest_start_ms, Some(start_at));
    assert_eq!(plan.waves[0].after, "at the start time");
    assert_eq!(plan.waves[1].earliest_start_ms, None);
    assert_eq!(plan.waves[1].after, "wave 1 done + 1s");
    assert!(
        h.console.store().campaign_views().unwrap().is_empty(),
        "planning creates nothing"
    );

    let created = campaign::create(&h.console, &new).expect("create");
    campaign::start(&h.console, created.id).expect("start");
    let done = run_to_end(&h.console, created.id).await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);

    let rows = campaign::devices(&h.console, created.id, &CampaignDeviceQuery::default())
        .expect("rows")
        .rows;
    for (wave, planned) in plan.waves.iter().enumerate() {
        let in_wave = rows.iter().filter(|r| r.wave == Some(wave as u32)).count() as u32;
        assert_eq!(in_wave, planned.devices, "wave {wave}");
    }
    let started = |wave: u32| {
        rows.iter()
            .filter(|r| r.wave == Some(wave))
            .map(|r| r.started_at.expect("started"))
            .min()
            .expect("a device")
    };
    let wave_done = rows
        .iter()
        .filter(|r| r.wave == Some(0))
        .map(|r| r.finished_at.expect("finished"))
        .max()
        .expect("a device");
    assert!(
        started(0) >= start_at,
        "a device started {} ms before the planned start",
        start_at - started(0)
    );
    // The runner finds wave 1 done at or after its last device finished; the bake counts from there.
    assert!(
        started(1) >= wave_done + 1_000,
        "wave 2 started {} ms after wave 1 was done, within its 1s bake",
        started(1) - wave_done
    );
}
