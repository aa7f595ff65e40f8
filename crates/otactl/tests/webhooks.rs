//! Webhooks through the real `otactl` (runs inside the keychain session that `cargo xtask test` sets up on
//! Linux): `webhooks add URL --events campaign.*` with the secret on stdin (kept in the keychain, nowhere
//! else), a camera campaign run by `otactl campaign start` on the simulator, then `webhooks deliver`: a
//! receiver on 127.0.0.1 gets started → wave passed → wave passed → completed, each once, in order, each
//! signed with the secret; `webhooks deliveries` logs each attempt. Plain http elsewhere and an empty
//! secret are refused; `webhooks remove` deletes the keychain entry.

mod common;

use common::*;
use ota_core::SecretStore;

#[tokio::test(flavor = "multi_thread")]
async fn campaign_events_reach_a_webhook_added_with_otactl_signed_and_in_order() {
    let desk = SimDesk::new(60, 23).await;
    let data = desk.data.path();
    let secret = format!("webhook-secret-{}", std::process::id());
    let (url, received) = receiver(&secret).await;
    let add = |url: &str, stdin: &str| {
        otactl_with_env(
            data,
            &["webhooks", "add", url, "--events", "campaign.*", "--json"],
            Some(stdin),
            &desk.env,
        )
    };

    // Refused before anything is kept: plain http to another host, an empty secret.
    let plain = add("http://hooks.example.com/ota", &format!("{secret}\n"));
    assert_eq!(plain.status.code(), Some(2), "{}", stderr(&plain));
    assert_refused(&plain, "Plain http is refused");
    let empty = add(&url, "\n");
    assert_eq!(empty.status.code(), Some(2), "{}", stderr(&empty));
    assert_refused(&empty, "secret is empty");

    let added = add(&url, &format!("{secret}\n"));
    let webhook = json_of(&added);
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(webhook["url"], url.as_str());
    assert_eq!(webhook["events"], serde_json::json!(["campaign.*"]));
    let webhook_id = webhook["id"].as_i64().unwrap();
    let listed = json_of(&desk.run(&["webhooks", "list", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let campaign = camera_campaign(data, &desk.url, &desk.env, "Hooked", &["--waves", "50,100"]);
    let run = desk.run(&["campaign", "start", &campaign.id]);
    assert!(run.status.success(), "{}\n{}", stdout(&run), stderr(&run));

    // Events under 2 s old wait to settle; then one pass sends them all.
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    let delivered = desk.run(&["webhooks", "deliver", "--json"]);
    assert!(delivered.status.success(), "{}", stderr(&delivered));
    assert_eq!(json_of(&delivered)["delivered"], 4);

    let got = received.lock().unwrap().clone();
    assert_eq!(
        got.iter().map(|(e, ..)| e.as_str()).collect::<Vec<_>>(),
        [
            "campaign.started",
            "campaign.wave_passed",
            "campaign.wave_passed",
            "campaign.completed"
        ]
    );
    for (event, delivery, body, signed) in &got {
        assert!(signed, "{event}: the signature verifies with the secret");
        assert_eq!(body["event"], event.as_str());
        assert_eq!(body["id"].to_string(), *delivery);
        assert_eq!(body["campaignId"].to_string(), campaign.id);
        assert_eq!(body["campaign"], "Hooked");
    }

    // Nothing twice; the log has each attempt.
    let again = desk.run(&["webhooks", "deliver", "--json"]);
    assert_eq!(json_of(&again)["delivered"], 0);
    assert_eq!(received.lock().unwrap().len(), 4);
    let log = json_of(&desk.run(&["webhooks", "deliveries", &webhook_id.to_string(), "--json"]));
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 4);
    assert!(log
        .iter()
        .all(|d| d["outcome"] == "delivered" && d["status"] == 204 && d["attempt"] == 1));

    // The secret is in the keychain, under this data folder's id, and nowhere in the data folder.
    let key = {
        let store = ota_core::Store::open_in(data).unwrap();
        ota_core::secrets::webhook_key(&store.instance_id().unwrap(), webhook_id)
    };
    let keychain = ota_core::Keychain::default();
    assert_eq!(
        keychain
            .get(&key, ota_core::SecretSlot::Credential)
            .unwrap()
            .map(|s| s.expose().to_string()),
        Some(secret.clone())
    );
    assert_eq!(files_containing(data, &secret), Vec::<String>::new());
    for out in [&added, &delivered] {
        assert!(!stdout(out).contains(&secret) && !stderr(out).contains(&secret));
    }

    let removed = desk.run(&["webhooks", "remove", &webhook_id.to_string()]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(
        keychain
            .get(&key, ota_core::SecretSlot::Credential)
            .unwrap(),
        None
    );
    let audit = stdout(&desk.run(&["audit", "export", "--format", "csv", "--action", "webhook."]));
    assert!(
        audit.contains(",webhook.add,") && audit.contains(",webhook.remove,"),
        "{audit}"
    );
}
