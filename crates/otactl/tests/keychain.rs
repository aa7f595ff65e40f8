//! A real account's secret goes through the OS keychain and nowhere else (runs inside the keychain session
//! that `cargo xtask test` sets up on Linux).

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn account_secret_round_trips_through_the_keychain_and_leaks_nowhere() {
    let sim = sim(60, 11).await;
    let (email, password) = sandbox_login(&sim.url(), "vicohome").await;
    let data = tempfile::tempdir().unwrap();
    let name = format!("Keychain test {}", std::process::id());

    let url = sim.url();
    let account = AccountToAdd::new("vicohome", &name, &url, &email);
    let add = account.add(data.path(), &[], &password);
    assert!(add.status.success(), "add failed: {}", stderr(&add));

    // A new process (a restarted store) signs in with the secret it reads back from the keychain.
    let list = as_account(data.path(), &name, &["devices", "list", "--json"]);
    assert!(list.status.success(), "list failed: {}", stderr(&list));
    let devices: Vec<serde_json::Value> = serde_json::from_str(&stdout(&list)).unwrap();
    let expected = fleet_of(&url, "vicohome").await.len();
    assert!(expected > 0);
    assert_eq!(
        devices.len(),
        expected,
        "every camera of the account is listed"
    );

    let accounts_json = otactl(data.path(), &["accounts", "list", "--json"], None);
    assert!(accounts_json.status.success());

    // The secret is in none of the data folder's files (SQLite, WAL, logs) nor in any output.
    assert_eq!(
        files_containing(data.path(), &password),
        Vec::<String>::new()
    );
    for output in [&add, &list, &accounts_json] {
        assert!(
            !stdout(output).contains(&password),
            "secret printed on stdout"
        );
        assert!(
            !stderr(output).contains(&password),
            "secret in the log output"
        );
    }

    // The secret is filed under this data folder's id and the account's id, not under its name.
    let key = secret_key(data.path(), &name);
    let keychain = ota_core::Keychain::default();
    use ota_core::SecretStore;
    assert_eq!(
        keychain
            .get(&key, ota_core::SecretSlot::Credential)
            .unwrap()
            .map(|s| s.expose().to_string()),
        Some(password.clone())
    );
    assert_eq!(
        keychain
            .get(&name, ota_core::SecretSlot::Credential)
            .unwrap(),
        None,
        "nothing is filed under the bare account name"
    );

    // Removing the account removes its keychain entry: signing in is no longer possible.
    let remove = otactl(data.path(), &["accounts", "remove", &name], None);
    assert!(remove.status.success(), "{}", stderr(&remove));
    assert_eq!(
        keychain
            .get(&key, ota_core::SecretSlot::Credential)
            .unwrap(),
        None
    );
}

/// The keychain key of an account of the data folder at `data` (its database id + the account id).
fn secret_key(data: &std::path::Path, name: &str) -> String {
    let store = ota_core::Store::open_in(data).unwrap();
    let account = store.account_by_name(name).unwrap().expect("the account");
    ota_core::secrets::account_key(&store.instance_id().unwrap(), account.id)
}

/// Two data folders (two profiles, a desk and a test run) each with an account called "Field" and a
/// different password: each keeps its own secret, and removing one leaves the other working.
#[tokio::test(flavor = "multi_thread")]
async fn same_named_accounts_in_two_data_folders_keep_their_own_secrets() {
    let sim = sim(20, 17).await;
    let (email, password) = sandbox_login(&sim.url(), "vicohome").await;
    let name = format!("Field {}", std::process::id());
    let (desk, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let url = sim.url();
    let account = AccountToAdd::new("vicohome", &name, &url, &email);
    let add =
        |data: &std::path::Path, secret: &str, extra: &[&str]| account.add(data, extra, secret);
    let first = add(desk.path(), &password, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let second = add(other.path(), "a-different-password", &["--no-verify"]);
    assert!(second.status.success(), "{}", stderr(&second));

    let status = ["vicohome", "status", "--serial", "SN-NONE", "--json"];
    // Whether the account of the data folder `data` was refused sign-in (exit 4), and what was said.
    let auth_refused = |data: &std::path::Path| {
        let out = as_account(data, &name, &status);
        (out.status.code() == Some(4), stderr(&out))
    };
    // The desk's account signs in with its own password (the camera is unknown: not an auth failure).
    let (refused, said) = auth_refused(desk.path());
    assert!(!refused, "{said}");
    // The other folder's account uses its own (wrong) password, not the desk's.
    let (refused, said) = auth_refused(other.path());
    assert!(refused, "{said}");

    remove_account(other.path(), &name);
    let (refused, said) = auth_refused(desk.path());
    assert!(!refused, "{said}");
    let cleanup = otactl(desk.path(), &["accounts", "remove", &name], None);
    assert!(cleanup.status.success());
}

#[test]
fn keychain_stores_reads_and_deletes() {
    use ota_core::{Keychain, Secret, SecretSlot, SecretStore};
    let keychain = Keychain::new("ota-console-test");
    let name = format!("roundtrip-{}", std::process::id());
    keychain
        .set(&name, SecretSlot::Credential, &Secret::new("s3cr3t-value"))
        .expect("the OS keychain accepts the secret");
    // A fresh handle, as after a restart.
    let again = Keychain::new("ota-console-test");
    assert_eq!(
        again
            .get(&name, SecretSlot::Credential)
            .unwrap()
            .map(|s| s.expose().to_string()),
        Some("s3cr3t-value".to_string())
    );
    again.delete(&name, SecretSlot::Credential).unwrap();
    assert_eq!(again.get(&name, SecretSlot::Credential).unwrap(), None);
}
