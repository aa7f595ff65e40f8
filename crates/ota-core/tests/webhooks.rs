//! Webhooks for campaign events (`ota_core::webhooks`), end to end: a campaign runs on the in-memory cloud,
//! its audit entries become events, and a real HTTP receiver on 127.0.0.1 checks each delivery's
//! signature and records what it got — every event once, in order; a receiver that fails twice still
//! gets it (after a capped backoff, each attempt in the delivery log); an event is given up after its
//! last attempt and the next one follows.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ota_core::campaign::model::{
    CampaignRules, CampaignSettings, CampaignTargets, DeviceKey, NewCampaign,
};
use ota_core::campaign::{self};
use ota_core::model::now_ms;
use ota_core::webhooks::{
    self, DeliveryOutcome, DeliveryPass, DeliveryPolicy, Dispatcher, NewWebhook, Webhook,
    DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER,
};
use ota_core::{ErrorKind, Secret, SecretSlot, SecretStore};
use support::{run_to_end, wait_until, FakeCloud, Harness, Script};

/// What the receiver got in one request.
#[derive(Debug, Clone)]
struct Hit {
    event: String,
    delivery: i64,
    body: serde_json::Value,
    raw: Bytes,
    signature: String,
    /// The signature verified with the receiver's secret.
    signed: bool,
    content_type: String,
    /// What the receiver answered.
    answered: u16,
}

/// A webhook receiver on 127.0.0.1: it verifies every request's signature with its secret, records it,
/// and answers the statuses it was told to (then 200).
#[derive(Clone)]
struct Receiver {
    secret: String,
    script: Arc<Mutex<VecDeque<u16>>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    url: String,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let signature = header(SIGNATURE_HEADER);
    let answered = r.script.lock().unwrap().pop_front().unwrap_or(200);
    r.hits.lock().unwrap().push(Hit {
        event: header(EVENT_HEADER),
        delivery: header(DELIVERY_HEADER).parse().unwrap_or(-1),
        body: serde_json::from_slice(&body).unwrap_or_default(),
        signed: webhooks::verify(r.secret.as_bytes(), &body, &signature),
        raw: body,
        signature,
        content_type: header("content-type"),
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

impl Receiver {
    /// A receiver checking signatures with `secret`, first answering `script`'s statuses.
    async fn start(secret: &str, script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver {
            secret: secret.to_string(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            hits: Arc::default(),
            url,
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// The events it accepted (answered 2xx), in order.
    fn accepted(&self) -> Vec<String> {
        self.hits()
            .into_iter()
            .filter(|h| h.answered < 300)
            .map(|h| h.event)
            .collect()
    }
}

/// Every delay short: nothing waits to settle, retries after 20 ms, 40 ms, then 50 ms (the cap).
fn fast_policy(max_attempts: u32) -> DeliveryPolicy {
    DeliveryPolicy {
        settle: Duration::ZERO,
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(50),
        max_attempts,
        timeout: Duration::from_secs(5),
        poll: Duration::from_millis(5),
    }
}

/// A harness whose library holds the target firmware, over `devices`.
async fn fleet(devices: &[(&str, Script)]) -> (Harness, i64) {
    let h = Harness::new(FakeCloud::new(devices.iter().cloned())).await;
    let firmware = h.target_firmware();
    (h, firmware)
}

/// Creates a campaign over `devices` in waves `waves` (percent), failing at `threshold` percent.
fn create(h: &Harness, firmware_id: i64, devices: &[&str], waves: &[f64], threshold: f64) -> i64 {
    campaign::create(
        &h.console,
        &NewCampaign {
            name: "Cameras to 2.0.0".into(),
            firmware_id,
            targets: CampaignTargets::Devices {
                devices: devices
                    .iter()
                    .map(|id| DeviceKey {
                        account_id: h.account.id,
                        device_id: id.to_string(),
                    })
                    .collect(),
            },
            settings: CampaignSettings {
                waves: waves.to_vec(),
                concurrency: 10,
                requests_per_second: 1_000.0,
                failure_threshold_percent: threshold,
                ..CampaignSettings::default()
            },
            rules: Some(CampaignRules::default()),
        },
    )
    .expect("create the campaign")
    .id
}

fn add(h: &Harness, receiver: &Receiver, events: &[&str]) -> Webhook {
    webhooks::add(
        &h.console,
        &NewWebhook {
            url: receiver.url.clone(),
            events: events.iter().map(|e| e.to_string()).collect(),
        },
        Secret::new(receiver.secret.clone()),
    )
    .expect("add the webhook")
}

/// Runs the dispatcher's loop until `done` holds for the receiver (or the hang guard).
async fn deliver_until(
    h: &Harness,
    policy: DeliveryPolicy,
    what: &str,
    done: impl FnMut() -> bool,
) {
    let dispatcher = Arc::new(Dispatcher::new(&h.console, policy).unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let dispatcher = dispatcher.clone();
        tokio::spawn(async move {
            dispatcher
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    wait_until(what, done).await;
    stop.send(()).unwrap();
    running.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_campaign_event_reaches_the_receiver_once_in_order_with_a_valid_signature() {
    let devices = ["cam-1", "cam-2", "cam-3", "cam-4"];
    let (h, firmware) = fleet(&devices.map(|d| (d, Script::succeeds_after(2)))).await;
    let everything = Receiver::start("s3cret-everything", &[]).await;
    let completions = Receiver::start("another-secret", &[]).await;
    let all = add(&h, &everything, &["campaign.*"]);
    add(&h, &completions, &["campaign.completed"]);

    let id = create(&h, firmware, &devices, &[50.0, 100.0], 0.0);
    campaign::start(&h.console, id).unwrap();
    let done = run_to_end(&h.console, id).await;
    assert_eq!(done.counts.succeeded, 4, "{:?}", done.reason);

    let dispatcher = Dispatcher::new(&h.console, fast_policy(3)).unwrap();
    let pass = dispatcher.deliver_pending(now_ms()).await.unwrap();
    assert_eq!(
        pass,
        DeliveryPass {
            delivered: 5,
            ..DeliveryPass::default()
        }
    );

    let hits = everything.hits();
    assert_eq!(
        hits.iter().map(|h| h.event.as_str()).collect::<Vec<_>>(),
        [
            "campaign.started",
            "campaign.wave_passed",
            "campaign.wave_passed",
            "campaign.completed"
        ],
        "each event once, in order"
    );
    for hit in &hits {
        assert!(hit.signed, "the signature verifies: {hit:?}");
        assert!(hit.signature.starts_with("sha256="));
        assert!(
            !webhooks::verify(b"not the secret", &hit.raw, &hit.signature),
            "another secret does not verify it"
        );
        assert_eq!(hit.content_type, "application/json");
        assert_eq!(
            hit.body["id"], hit.delivery,
            "X-OTA-Delivery is the event id"
        );
        assert_eq!(hit.body["event"], hit.event.as_str());
        assert_eq!(hit.body["campaignId"], id);
        assert_eq!(hit.body["campaign"], "Cameras to 2.0.0");
        assert_eq!(hit.body["actor"], h.console.actor());
        assert_eq!(hit.body["cloud"], "vicohome");
        assert!(hit.body["at"].as_i64().unwrap() > 0);
    }
    assert!(
        hits.windows(2).all(|w| w[0].delivery < w[1].delivery),
        "in audit id order"
    );
    assert_eq!(
        hits.iter()
            .map(|h| (h.body["wave"].as_u64(), h.body["waves"].as_u64()))
            .collect::<Vec<_>>(),
        [
            (None, None),
            (Some(1), Some(2)),
            (Some(2), Some(2)),
            (None, None)
        ]
    );
    assert_eq!(completions.accepted(), ["campaign.completed"]);
    assert!(completions.hits()[0].signed);

    // Nothing is sent twice: the cursors moved past every event.
    let again = dispatcher.deliver_pending(now_ms()).await.unwrap();
    assert_eq!(again, DeliveryPass::default());
    assert_eq!(everything.hits().len(), 4);
    let log = webhooks::deliveries(&h.console, Some(all.id), 50).unwrap();
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|d| d.outcome == DeliveryOutcome::Delivered
        && d.attempt == 1
        && d.status == Some(200)
        && d.error.is_none()));
    assert_eq!(webhooks::deliveries(&h.console, None, 50).unwrap().len(), 5);
    let listed = webhooks::list(&h.console).unwrap();
    assert_eq!(
        listed[0].last_delivery.as_ref().map(|d| d.event.as_str()),
        Some("campaign.completed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_twice_still_gets_the_event_and_later_events_wait_behind_it() {
    let (h, firmware) = fleet(&[("cam-1", Script::succeeds_after(1))]).await;
    let receiver = Receiver::start("s3cret", &[500, 503]).await;
    let webhook = add(&h, &receiver, &["campaign.*"]);
    let id = create(&h, firmware, &["cam-1"], &[100.0], 0.0);
    campaign::start(&h.console, id).unwrap();
    campaign::cancel(&h.console, id).unwrap();

    // Until the last delivery is in the log (the receiver has it a moment before).
    let console = h.console.clone();
    let logged = |id: i64, event: &str| {
        webhooks::deliveries(&console, Some(id), 1)
            .unwrap()
            .first()
            .is_some_and(|d| d.event == event && d.outcome == DeliveryOutcome::Delivered)
    };
    let got_both = || logged(webhook.id, "campaign.cancelled");
    deliver_until(&h, fast_policy(5), "both events delivered", got_both).await;

    let hits = receiver.hits();
    assert_eq!(
        hits.iter()
            .map(|h| (h.event.as_str(), h.answered))
            .collect::<Vec<_>>(),
        [
            ("campaign.started", 500),
            ("campaign.started", 503),
            ("campaign.started", 200),
            ("campaign.cancelled", 200)
        ],
        "retried until accepted; the next event only after it"
    );
    assert!(hits.iter().all(|h| h.signed));
    assert!(
        hits[..3]
            .iter()
            .all(|h| h.raw == hits[0].raw && h.delivery == hits[0].delivery),
        "every attempt sends the same event, with the same id"
    );

    let mut log = webhooks::deliveries(&h.console, Some(webhook.id), 50).unwrap();
    log.reverse();
    assert_eq!(
        log.iter()
            .map(|d| (d.event.as_str(), d.attempt, d.status, d.outcome))
            .collect::<Vec<_>>(),
        [
            ("campaign.started", 1, Some(500), DeliveryOutcome::Retrying),
            ("campaign.started", 2, Some(503), DeliveryOutcome::Retrying),
            ("campaign.started", 3, Some(200), DeliveryOutcome::Delivered),
            (
                "campaign.cancelled",
                1,
                Some(200),
                DeliveryOutcome::Delivered
            ),
        ]
    );
    // Exponential backoff: the second attempt at least 20 ms after the first, the third 40 ms after it.
    assert!(log[1].at - log[0].at >= 20, "{log:?}");
    assert!(log[2].at - log[1].at >= 40, "{log:?}");
    assert!(log[0]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("HTTP 500")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_given_up_after_its_last_attempt_and_the_next_one_follows() {
    let (h, firmware) = fleet(&[("cam-1", Script::succeeds_after(1))]).await;
    let receiver = Receiver::start("s3cret", &[500, 500, 500]).await;
    let webhook = add(&h, &receiver, &["campaign.*"]);
    // Nothing listens on a port that was just closed: every attempt there is refused.
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    let unreachable = webhooks::add(
        &h.console,
        &NewWebhook {
            url: closed,
            events: vec!["campaign.started".into()],
        },
        Secret::new("s3cret"),
    )
    .unwrap();
    let id = create(&h, firmware, &["cam-1"], &[100.0], 0.0);
    campaign::start(&h.console, id).unwrap();
    campaign::cancel(&h.console, id).unwrap();

    let console = h.console.clone();
    let settled = || {
        webhooks::deliveries(&console, Some(webhook.id), 1)
            .unwrap()
            .first()
            .is_some_and(|d| d.event == "campaign.cancelled")
            && webhooks::deliveries(&console, Some(unreachable.id), 10)
                .unwrap()
                .first()
                .is_some_and(|d| d.outcome == DeliveryOutcome::Failed)
    };
    deliver_until(&h, fast_policy(3), "the first event given up", settled).await;

    let mut log = webhooks::deliveries(&h.console, Some(webhook.id), 50).unwrap();
    log.reverse();
    assert_eq!(
        log.iter()
            .map(|d| (d.event.as_str(), d.attempt, d.outcome))
            .collect::<Vec<_>>(),
        [
            ("campaign.started", 1, DeliveryOutcome::Retrying),
            ("campaign.started", 2, DeliveryOutcome::Retrying),
            ("campaign.started", 3, DeliveryOutcome::Failed),
            ("campaign.cancelled", 1, DeliveryOutcome::Delivered),
        ]
    );
    let refused = webhooks::deliveries(&h.console, Some(unreachable.id), 10).unwrap();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused.iter().all(|d| d.status.is_none()
        && d.error
            .as_deref()
            .is_some_and(|e| e.contains("could not connect"))));
    // Given up is handled: no further attempt is made.
    let pass = Dispatcher::new(&h.console, fast_policy(3))
        .unwrap()
        .deliver_pending(now_ms())
        .await
        .unwrap();
    assert_eq!(pass, DeliveryPass::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_over_the_threshold_send_device_failures_then_aborted() {
    let failing = Script::fails_after(
        1,
        ota_core::ApiError::new(ErrorKind::Device, "Install failed."),
    );
    let (h, firmware) = fleet(&[("cam-1", failing), ("cam-2", Script::succeeds_after(1))]).await;
    let receiver = Receiver::start("s3cret", &[]).await;
    add(&h, &receiver, &["campaign.*"]);
    let id = create(&h, firmware, &["cam-1", "cam-2"], &[100.0], 10.0);
    campaign::start(&h.console, id).unwrap();
    run_to_end(&h.console, id).await;

    let dispatcher = Dispatcher::new(&h.console, fast_policy(3)).unwrap();
    dispatcher.deliver_pending(now_ms()).await.unwrap();

    assert_eq!(
        receiver.accepted(),
        [
            "campaign.started",
            "campaign.device_failures",
            "campaign.aborted"
        ]
    );
    let failures = &receiver.hits()[1].body;
    assert_eq!(
        (failures["wave"].as_u64(), failures["waves"].as_u64()),
        (Some(1), Some(1))
    );
    let detail = failures["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 of 2 devices failed") && detail.contains("10 % threshold"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_until_they_have_settled() {
    let (h, firmware) = fleet(&[("cam-1", Script::succeeds_after(1))]).await;
    let receiver = Receiver::start("s3cret", &[]).await;
    let webhook = add(&h, &receiver, &["campaign.started"]);
    let id = create(&h, firmware, &["cam-1"], &[100.0], 0.0);
    campaign::start(&h.console, id).unwrap();

    let dispatcher = Dispatcher::new(&h.console, DeliveryPolicy::default()).unwrap();
    let now = now_ms();
    assert_eq!(dispatcher.deliver_pending(now).await.unwrap().delivered, 0);
    assert!(receiver.hits().is_empty(), "younger than 2 s");
    assert_eq!(
        webhooks::list(&h.console).unwrap()[0].last_audit_id,
        webhook.last_audit_id,
        "the cursor waits below it"
    );
    assert_eq!(
        dispatcher
            .deliver_pending(now + 2_500)
            .await
            .unwrap()
            .delivered,
        1
    );
    assert_eq!(receiver.accepted(), ["campaign.started"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_refuses_plain_http_elsewhere_and_an_empty_secret_and_removing_forgets_the_secret() {
    let (h, _) = fleet(&[("cam-1", Script::succeeds_after(1))]).await;
    let new = |url: &str| NewWebhook {
        url: url.into(),
        events: vec!["campaign.*".into()],
    };
    let err = webhooks::add(
        &h.console,
        &new("http://hooks.example.com/ota"),
        Secret::new("s"),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorKind::Validation);
    assert!(
        err.message.contains("Plain http is refused"),
        "{}",
        err.message
    );
    let err = webhooks::add(
        &h.console,
        &new("https://hooks.example.com/ota"),
        Secret::new(""),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorKind::Validation);
    let err = webhooks::add(
        &h.console,
        &NewWebhook {
            url: "https://hooks.example.com/ota".into(),
            events: vec!["campaign.finished".into()],
        },
        Secret::new("s"),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorKind::Validation);
    assert!(
        webhooks::list(&h.console).unwrap().is_empty(),
        "nothing kept"
    );

    let added = webhooks::add(
        &h.console,
        &new("https://hooks.example.com/T0/secret-path-token"),
        Secret::new("s3cret"),
    )
    .unwrap();
    let key = webhooks::secret_key(&h.console, added.id);
    assert_eq!(
        h.secrets
            .get(&key, SecretSlot::Credential)
            .unwrap()
            .map(|s| s.expose().to_string()),
        Some("s3cret".into()),
        "the secret is in the keychain"
    );
    let audit = h.console.store().audit_entries(5).unwrap();
    let add_entry = audit
        .iter()
        .find(|e| e.action == "webhook.add" && e.result == "ok")
        .unwrap();
    let target = add_entry.target.as_deref().unwrap();
    assert!(
        target.contains("https://hooks.example.com") && !target.contains("secret-path-token"),
        "{target}"
    );

    webhooks::remove(&h.console, added.id).unwrap();
    assert!(webhooks::list(&h.console).unwrap().is_empty());
    assert_eq!(h.secrets.get(&key, SecretSlot::Credential).unwrap(), None);
    assert_eq!(
        webhooks::remove(&h.console, added.id).unwrap_err().code,
        ErrorKind::NotFound
    );
    assert!(h
        .console
        .store()
        .audit_entries(5)
        .unwrap()
        .iter()
        .any(|e| e.action == "webhook.remove" && e.result == "ok"));
}
