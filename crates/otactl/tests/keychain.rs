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

    let add = otactl(
        data.path(),
        &[
            "accounts",
            "add",
            "--cloud",
            "vicohome",
            "--name",
            &name,
            "--base-url",
            &sim.url(),
            "--user",
            &email,
        ],
        Some(&format!("{password}\n")),
    );
    assert!(add.status.success(), "add failed: {}", stderr(&add));

    // A new process (a restarted store) signs in with the secret it reads back from the keychain.
    let list = otactl(
        data.path(),
        &["--account", &name, "devices", "list", "--json"],
        None,
    );
    assert!(list.status.success(), "list failed: {}", stderr(&list));
    let devices: Vec<serde_json::Value> = serde_json::from_str(&stdout(&list)).unwrap();
    let sim_devices = get_json(&format!("{}/_sim/devices", sim.url())).await;
    let expected = sim_devices
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["cloud"] == "vicohome")
        .count();
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
    let add = |data: &std::path::Path, secret: &str, extra: &[&str]| {
        let mut args = vec![
            "accounts",
            "add",
            "--cloud",
            "vicohome",
            "--name",
            &name,
            "--base-url",
        ];
        let url = sim.url();
        args.push(&url);
        args.extend_from_slice(&["--user", &email]);
        args.extend_from_slice(extra);
        otactl(data, &args, Some(&format!("{secret}\n")))
    };
    let first = add(desk.path(), &password, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let second = add(other.path(), "a-different-password", &["--no-verify"]);
    assert!(second.status.success(), "{}", stderr(&second));

    let list = |data: &std::path::Path| {
        otactl(
            data,
            &[
                "--account",
                &name,
                "vicohome",
                "status",
                "--serial",
                "SN-NONE",
                "--json",
            ],
            None,
        )
    };
    // The desk's account signs in with its own password (the camera is unknown: not an auth failure).
    let desk_status = list(desk.path());
    assert_ne!(
        desk_status.status.code(),
        Some(4),
        "{}",
        stderr(&desk_status)
    );
    // The other folder's account uses its own (wrong) password, not the desk's.
    let other_status = list(other.path());
    assert_eq!(
        other_status.status.code(),
        Some(4),
        "{}",
        stderr(&other_status)
    );

    let removed = otactl(other.path(), &["accounts", "remove", &name], None);
    assert!(removed.status.success(), "{}", stderr(&removed));
    let again = list(desk.path());
    assert_ne!(again.status.code(), Some(4), "{}", stderr(&again));
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
