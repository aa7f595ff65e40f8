//! Adding accounts as a technician does: the base-URL rule (plain http only by explicit choice, OneNET
//! only), and signing in before anything is stored, against the simulator.

mod common;

use common::*;

fn account_names(data: &std::path::Path) -> Vec<String> {
    let list = otactl(data, &["accounts", "list", "--json"], None);
    assert!(list.status.success(), "{}", stderr(&list));
    let accounts: Vec<serde_json::Value> = serde_json::from_str(&stdout(&list)).unwrap();
    accounts
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// Whether the keychain holds a credential for any of the first account ids of this data folder (a failed
/// add inserts no row, so it consumes no id) or under the bare account name.
fn keychain_holds(data: &std::path::Path, name: &str) -> bool {
    use ota_core::SecretStore;
    let keychain = ota_core::Keychain::default();
    let instance = ota_core::Store::open_in(data)
        .unwrap()
        .instance_id()
        .unwrap();
    let mut keys: Vec<String> = (1..=3)
        .map(|id| ota_core::secrets::account_key(&instance, id))
        .collect();
    keys.push(name.to_string());
    keys.iter().any(|key| {
        keychain
            .get(key, ota_core::SecretSlot::Credential)
            .unwrap()
            .is_some()
    })
}

#[test]
fn onenet_plain_http_needs_allow_http_and_is_marked_in_the_list() {
    let data = tempfile::tempdir().unwrap();
    let name = format!("OneNET http {}", std::process::id());
    let key = "c2VjcmV0LWFjY2Vzcy1rZXk=";

    let account = AccountToAdd::new("onenet", &name, "http://ota.heclouds.com", "245528");
    let refused = account.add(data.path(), &[], key);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--allow-http"),
        "the refusal names the option: {}",
        stderr(&refused)
    );
    assert!(account_names(data.path()).is_empty());

    // No network is needed to set it up offline.
    let accepted = account.add(data.path(), &["--allow-http", "--no-verify"], key);
    assert!(accepted.status.success(), "{}", stderr(&accepted));
    assert!(stderr(&accepted).contains("plain http"));
    let list = otactl(data.path(), &["accounts", "list"], None);
    let line = stdout(&list)
        .lines()
        .find(|l| l.starts_with(&name))
        .map(str::to_string)
        .expect("the account is listed");
    assert!(line.contains("http://ota.heclouds.com"), "{line}");
    assert!(line.contains("(plain http)"), "{line}");
    let json = otactl(data.path(), &["accounts", "list", "--json"], None);
    let accounts: Vec<serde_json::Value> = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(accounts[0]["allowHttp"], true);

    remove_account(data.path(), &name);
}

#[test]
fn plain_http_is_never_allowed_for_clouds_that_sign_in_with_a_password() {
    let data = tempfile::tempdir().unwrap();
    let account = AccountToAdd::new(
        "vicohome",
        "Vico http",
        "http://api-us.vicohome.io",
        "me@example.com",
    );
    let out = account.add(data.path(), &["--allow-http", "--no-verify"], "pw");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("password"), "{}", stderr(&out));
    assert!(account_names(data.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_refused_with_the_clouds_answer_and_nothing_is_stored() {
    let sim = sim(30, 21).await;
    let accounts = get_json(&format!("{}/_sim/accounts", sim.url())).await;
    let data = tempfile::tempdir().unwrap();
    for cloud in ["vicohome", "quectel"] {
        let email = accounts[cloud]["email"].as_str().unwrap().to_string();
        let password = accounts[cloud]["password"].as_str().unwrap().to_string();
        let name = format!("Verify {cloud} {}", std::process::id());

        let url = sim.url();
        let account = AccountToAdd::new(cloud, &name, &url, &email);
        let wrong = account.add(data.path(), &[], "not-the-password");
        assert!(
            !wrong.status.success(),
            "{cloud}: a wrong password was accepted"
        );
        let text = stderr(&wrong);
        assert!(text.contains("e-mail or password"), "{cloud}: {text}");
        assert!(text.contains("nothing was stored"), "{cloud}: {text}");
        assert!(
            account_names(data.path()).is_empty(),
            "{cloud}: a row was stored"
        );
        assert!(
            !keychain_holds(data.path(), &name),
            "{cloud}: a secret was stored"
        );

        let right = account.add(data.path(), &[], &password);
        assert!(right.status.success(), "{cloud}: {}", stderr(&right));
        assert!(
            stderr(&right).contains("Signed in"),
            "{cloud}: the answer says what was checked: {}",
            stderr(&right)
        );
        assert_eq!(account_names(data.path()), vec![name.clone()]);
        remove_account(data.path(), &name);
    }

    // OneNET has no sign-in; against the simulator its listing checks the product token.
    let product = &accounts["onenet"]["products"][0];
    let product_id = product["product_id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| product["product_id"].to_string());
    let name = format!("Verify onenet {}", std::process::id());
    let url = sim.url();
    let account = AccountToAdd::new("onenet", &name, &url, &product_id);
    let wrong = account.add(data.path(), &[], "d3Jvbmcta2V5LXdyb25nLWtleQ==");
    assert!(!wrong.status.success(), "a wrong access key was accepted");
    assert!(
        stderr(&wrong).contains("nothing was stored"),
        "{}",
        stderr(&wrong)
    );
    assert!(account_names(data.path()).is_empty());
    assert!(!keychain_holds(data.path(), &name));
}

/// `--sim-url` reads the simulator's time scale, so a fast simulator's update shows every phase instead of
/// jumping from 0 % to 100 %.
#[tokio::test(flavor = "multi_thread")]
async fn sim_url_polls_at_the_simulators_pace_and_shows_downloading_and_installing() {
    let sim = sim_at(40, 5, 200.0).await;
    let serial = updatable_camera(&sim.url()).await;
    let fleet = get_json(&format!("{}/_sim/devices/{serial}", sim.url())).await;
    let model = fleet["model"].as_str().unwrap().to_string();
    // A 48 MiB package: 48 simulated seconds of download, a quarter of a second at time scale 200.
    post_json(
        &format!("{}/_sim/vicohome/firmware", sim.url()),
        serde_json::json!({"version": "9.1.0", "model": model, "size": 48 * 1024 * 1024}),
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let url = sim.url();
    let mut command = otactl_command(data.path(), &start_and_follow(&url, &serial), &[]);
    command.env_remove("OTA_CONSOLE_TIME_SCALE");
    let out = command.output().expect("otactl runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let phases: Vec<(String, u64)> = json_lines(&stdout(&out))
        .iter()
        .map(|v| {
            (
                v["phase"].as_str().unwrap().to_string(),
                v["percent"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        phases
            .iter()
            .any(|(p, pct)| p == "downloading" && *pct > 0 && *pct <= 90),
        "a downloading state between 0 and 90 %: {phases:?}"
    );
    assert!(
        phases
            .iter()
            .any(|(p, pct)| p == "installing" && *pct == 95),
        "the installing state at 95 %: {phases:?}"
    );
    assert_eq!(phases.last().map(|(p, _)| p.as_str()), Some("complete"));
}
