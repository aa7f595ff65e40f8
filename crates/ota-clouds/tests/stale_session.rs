//! A session token the cloud no longer accepts (kept in the keychain by another data folder, an older run,
//! or simply expired) costs exactly one fresh sign-in, and never a loop: a refusal after the fresh
//! sign-in, or a wrong password, is an auth error the user sees at once.
//!
//! Vicohome and Quectel keep sessions. OneNET has none: every call is signed with the product's access
//! key (a token made on the spot), so nothing is kept that could go stale, and it has no test here.
//!
//! The accounts are real (non-sandbox) accounts added without verification through a `Console`, whose
//! session cache files the token in the secret store under the data folder's id and the account id, as the
//! keychain does. The store is in memory: this tests the clients, not the keychain.

mod common;
mod fake;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{connector, fast_retry, spawn_sim, MemorySecrets};
use fake::{Fake, Reply};
use ota_clouds::http::{build_client, BaseUrl, HttpConfig};
use ota_clouds::quectel::QuectelClient;
use ota_clouds::vicohome::VicohomeClient;
use ota_clouds::{sandbox_accounts, VicohomeOptions};
use ota_core::cloud::{CloudSession, Credentials, SessionCache};
use ota_core::secrets::{SecretSlot, SecretStore};
use ota_core::{Account, ApiError, Cloud, Console, Device, ErrorKind, NewAccount, Secret, Store};
use ota_sim::{SimConfig, SimHandle};
use serde_json::{json, Value};

const VICO_LOGIN: &str = "/account/login";
const VICO_LIST: &str = "/device/listuserdevices";
const Q_LOGIN: &str = "/v2/enduser/enduserapi/emailPwdLogin";
const Q_REFRESH: &str = "/v2/enduser/enduserapi/refreshToken";
const Q_LIST: &str = "/v2/binding/enduserapi/userDeviceList";

/// The simulator's token lifetime (its default), in simulated time.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

async fn start_sim() -> SimHandle {
    let config = SimConfig {
        devices: 40,
        seed: 7,
        token_ttl: TOKEN_TTL,
        ..SimConfig::default()
    };
    spawn_sim(config).await
}

/// The simulator's account for `cloud`: (e-mail, password).
async fn sim_credentials(sim: &SimHandle, cloud: Cloud) -> (String, String) {
    let account = sandbox_accounts(&sim.url())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.cloud == cloud)
        .unwrap();
    (
        account.credentials.username.unwrap(),
        account.credentials.secret.expose().to_string(),
    )
}

/// One run of the app (or of `otactl`) on the data folder `dir`.
fn console(dir: &Path, secrets: &Arc<MemorySecrets>) -> Console {
    Console::new(
        Store::open_in(dir).unwrap(),
        secrets.clone(),
        Arc::new(connector()),
    )
}

/// Adds a real account pointing at the simulator, without signing in (`--no-verify`).
async fn add_account(
    console: &Console,
    sim: &SimHandle,
    cloud: Cloud,
    email: &str,
    password: &str,
) -> Account {
    let new = NewAccount {
        name: format!("Field {}", cloud.label()),
        cloud,
        base_url: sim.url(),
        region: None,
        username: Some(email.to_string()),
        allow_http: false,
    };
    let added = console
        .add_account(&new, Secret::new(password), false)
        .await
        .unwrap();
    assert!(!added.account.sandbox);
    added.account
}

/// A simulator and one data folder with its in-memory keychain: what the runs of one test share.
struct Field {
    sim: SimHandle,
    dir: tempfile::TempDir,
    secrets: Arc<MemorySecrets>,
}

impl Field {
    async fn start() -> Field {
        Field {
            sim: start_sim().await,
            dir: tempfile::tempdir().unwrap(),
            secrets: Arc::new(MemorySecrets::default()),
        }
    }

    /// One run of the app (or of `otactl`) on the data folder.
    fn run(&self) -> Console {
        console(self.dir.path(), &self.secrets)
    }

    /// Adds the simulator's `cloud` account on `run` without signing in, with `wrong_password` in place
    /// of its password where given.
    async fn add_account(
        &self,
        run: &Console,
        cloud: Cloud,
        wrong_password: Option<&str>,
    ) -> Account {
        let (email, password) = sim_credentials(&self.sim, cloud).await;
        let password = wrong_password.unwrap_or(&password);
        add_account(run, &self.sim, cloud, &email, password).await
    }
}

/// What the user sees after a wrong password: an auth error that says so, with a hint.
fn assert_wrong_password_error(err: &ApiError) {
    assert_eq!(err.code, ErrorKind::Auth, "{err:?}");
    assert!(
        err.message.contains("e-mail or password"),
        "{}",
        err.message
    );
    assert!(err.hint.is_some());
}

/// Puts `token` in the account's session slot, where the client looks first.
fn keep_session(console: &Console, secrets: &MemorySecrets, account: &Account, token: &str) {
    secrets
        .set(
            &console.secret_key(account),
            SecretSlot::Session,
            &Secret::new(token),
        )
        .unwrap();
}

fn kept_session(console: &Console, secrets: &MemorySecrets, account: &Account) -> Option<String> {
    secrets
        .get(&console.secret_key(account), SecretSlot::Session)
        .unwrap()
        .map(|s| s.expose().to_string())
}

/// A Quectel session as the client keeps it (tokens and their expiries, as JSON), expiring far ahead so
/// the client sends it rather than renewing it first.
fn quectel_session(access: &str, refresh: &str) -> String {
    let far = 4_102_444_800_000_i64; // 2100-01-01
    json!({"access": access, "accessExpiresMs": far, "refresh": refresh, "refreshExpiresMs": far})
        .to_string()
}

async fn list(console: &Console, account: &Account) -> Result<Vec<Device>, ApiError> {
    console.session(account)?.list_devices().await
}

async fn admin_get(sim: &SimHandle, path: &str) -> Value {
    reqwest::get(format!("{}{path}", sim.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn advance_clock(sim: &SimHandle, by: Duration) {
    let response = reqwest::Client::new()
        .post(format!("{}/_sim/clock", sim.url()))
        .json(&json!({"advance_ms": by.as_millis() as u64}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

/// Outcomes the simulator logged for `endpoint`, in order.
async fn logged(sim: &SimHandle, endpoint: &str) -> Vec<String> {
    admin_get(sim, "/_sim/log")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"] == endpoint)
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect()
}

async fn fleet_size(sim: &SimHandle, cloud: &str) -> usize {
    admin_get(sim, "/_sim/devices")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["cloud"] == cloud)
        .count()
}

// ---- Vicohome ----

#[tokio::test]
async fn vicohome_a_token_the_cloud_never_issued_costs_one_sign_in_then_is_replaced() {
    let field = Field::start().await;

    let first_run = field.run();
    let account = field.add_account(&first_run, Cloud::Vicohome, None).await;
    keep_session(
        &first_run,
        &field.secrets,
        &account,
        "token-from-another-data-folder",
    );
    let devices = list(&first_run, &account).await.unwrap();
    assert_eq!(devices.len(), fleet_size(&field.sim, "vicohome").await);
    assert_eq!(
        logged(&field.sim, VICO_LOGIN).await,
        ["ok"],
        "exactly one sign-in"
    );
    assert_eq!(logged(&field.sim, VICO_LIST).await, ["error:-1026", "ok"]);
    let renewed = kept_session(&first_run, &field.secrets, &account).unwrap();
    assert_ne!(renewed, "token-from-another-data-folder");
    drop(first_run);

    // The next run uses the new token: no sign-in at all.
    let second_run = field.run();
    list(&second_run, &account).await.unwrap();
    assert_eq!(
        logged(&field.sim, VICO_LOGIN).await,
        ["ok"],
        "no second sign-in"
    );
    assert_eq!(
        logged(&field.sim, VICO_LIST).await,
        ["error:-1026", "ok", "ok"]
    );
}

#[tokio::test]
async fn vicohome_a_token_that_expired_since_the_last_run_costs_one_sign_in() {
    let field = Field::start().await;

    let first_run = field.run();
    let account = field.add_account(&first_run, Cloud::Vicohome, None).await;
    list(&first_run, &account).await.unwrap();
    assert_eq!(logged(&field.sim, VICO_LOGIN).await, ["ok"]);
    drop(first_run);

    advance_clock(&field.sim, TOKEN_TTL + Duration::from_secs(60)).await;
    let second_run = field.run();
    list(&second_run, &account).await.unwrap();
    assert_eq!(
        logged(&field.sim, VICO_LOGIN).await,
        ["ok", "ok"],
        "exactly one more sign-in"
    );
    assert_eq!(
        logged(&field.sim, VICO_LIST).await,
        ["ok", "error:-1027", "ok"]
    );
}

#[tokio::test]
async fn vicohome_a_wrong_password_behind_a_stale_token_is_one_attempt_and_a_clear_auth_error() {
    let field = Field::start().await;
    let console = field.run();
    let account = field
        .add_account(&console, Cloud::Vicohome, Some("not-the-password"))
        .await;
    keep_session(
        &console,
        &field.secrets,
        &account,
        "token-from-another-data-folder",
    );

    let err = list(&console, &account).await.unwrap_err();
    assert_wrong_password_error(&err);
    assert_eq!(
        logged(&field.sim, VICO_LOGIN).await,
        ["error:-1"],
        "one attempt"
    );
    assert_eq!(
        logged(&field.sim, VICO_LIST).await,
        ["error:-1026"],
        "no retry"
    );
}

#[tokio::test]
async fn vicohome_a_cloud_that_refuses_the_fresh_token_too_gets_no_second_sign_in() {
    let field = Field::start().await;
    let console = field.run();
    let account = field.add_account(&console, Cloud::Vicohome, None).await;
    list(&console, &account).await.unwrap();

    // Every token expires on its first use, the fresh one included.
    let response = reqwest::Client::new()
        .post(format!("{}/_sim/faults", field.sim.url()))
        .json(&json!({"kind": "token_expired", "target": "*", "count": 50}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let err = list(&console, &account).await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Auth, "{err:?}");
    assert_eq!(err.vendor_code.as_deref(), Some("-1027"));
    assert_eq!(
        logged(&field.sim, VICO_LOGIN).await,
        ["ok", "ok"],
        "one fresh sign-in"
    );
    assert_eq!(
        logged(&field.sim, VICO_LIST).await,
        ["ok", "error:-1027", "error:-1027"],
        "the call repeated once, then the error shown"
    );
}

#[tokio::test]
async fn vicohome_an_http_refusal_leads_to_one_sign_in_too() {
    for status in [401, 403] {
        let fake = Fake::start().await;
        fake.default(
            VICO_LOGIN,
            Reply::json(json!({"result": 0, "data": {"token": {"token": "fresh"}}})),
        );
        fake.queue(VICO_LIST, Reply::status(status, ""));
        fake.default(
            VICO_LIST,
            Reply::json(json!({"result": 0, "data": {"list": [{"serialNumber": "SN-1"}]}})),
        );
        let client = VicohomeClient::new(
            build_client(&HttpConfig::default()).unwrap(),
            BaseUrl::parse(&fake.url()).unwrap(),
            Credentials {
                username: Some("tech@example.com".into()),
                secret: Secret::new("pa55word"),
            },
            stale_cache(),
            VicohomeOptions {
                retry: fast_retry(),
                ..VicohomeOptions::default()
            },
        )
        .unwrap();
        assert_eq!(
            client.list_devices().await.unwrap().len(),
            1,
            "HTTP {status}"
        );
        assert_eq!(fake.calls(VICO_LOGIN).len(), 1, "HTTP {status}");
        let lists = fake.calls(VICO_LIST);
        assert_eq!(lists.len(), 2, "HTTP {status}");
        assert_eq!(lists[1].authorization.as_deref(), Some("fresh"));
    }
}

// ---- Quectel ----

#[tokio::test]
async fn quectel_a_token_the_cloud_never_issued_costs_one_sign_in_then_is_replaced() {
    let field = Field::start().await;

    let first_run = field.run();
    let account = field.add_account(&first_run, Cloud::Quectel, None).await;
    let stale = quectel_session("qa_from_another_folder", "qr_from_another_folder");
    keep_session(&first_run, &field.secrets, &account, &stale);
    let devices = list(&first_run, &account).await.unwrap();
    assert_eq!(devices.len(), fleet_size(&field.sim, "quectel").await);
    assert_eq!(
        logged(&field.sim, Q_REFRESH).await,
        ["error:401"],
        "the stale refresh token is tried once"
    );
    assert_eq!(
        logged(&field.sim, Q_LOGIN).await,
        ["ok"],
        "exactly one sign-in"
    );
    assert_eq!(logged(&field.sim, Q_LIST).await, ["error:401", "ok"]);
    let renewed = kept_session(&first_run, &field.secrets, &account).unwrap();
    assert!(!renewed.contains("from_another_folder"), "{renewed}");
    drop(first_run);

    let second_run = field.run();
    list(&second_run, &account).await.unwrap();
    assert_eq!(
        logged(&field.sim, Q_LOGIN).await,
        ["ok"],
        "no second sign-in"
    );
    assert_eq!(
        logged(&field.sim, Q_REFRESH).await.len(),
        1,
        "no second refresh"
    );
    assert_eq!(logged(&field.sim, Q_LIST).await, ["error:401", "ok", "ok"]);
}

#[tokio::test]
async fn quectel_a_session_that_expired_since_the_last_run_costs_one_sign_in() {
    let field = Field::start().await;

    let first_run = field.run();
    let account = field.add_account(&first_run, Cloud::Quectel, None).await;
    list(&first_run, &account).await.unwrap();
    assert_eq!(logged(&field.sim, Q_LOGIN).await, ["ok"]);
    drop(first_run);

    // Past the refresh token's life too (the simulator's is seven access-token lives).
    advance_clock(&field.sim, TOKEN_TTL * 8).await;
    let second_run = field.run();
    list(&second_run, &account).await.unwrap();
    assert_eq!(
        logged(&field.sim, Q_LOGIN).await,
        ["ok", "ok"],
        "exactly one more sign-in"
    );
    assert_eq!(logged(&field.sim, Q_REFRESH).await, ["error:401"]);
    assert_eq!(logged(&field.sim, Q_LIST).await, ["ok", "error:401", "ok"]);
}

#[tokio::test]
async fn quectel_a_wrong_password_behind_a_stale_token_is_one_attempt_and_a_clear_auth_error() {
    let field = Field::start().await;
    let console = field.run();
    let account = field
        .add_account(&console, Cloud::Quectel, Some("not-the-password"))
        .await;
    let stale = quectel_session("qa_from_another_folder", "qr_from_another_folder");
    keep_session(&console, &field.secrets, &account, &stale);

    let err = list(&console, &account).await.unwrap_err();
    assert_wrong_password_error(&err);
    assert_eq!(
        logged(&field.sim, Q_LOGIN).await,
        ["error:401"],
        "one attempt"
    );
    assert_eq!(logged(&field.sim, Q_REFRESH).await, ["error:401"]);
    assert_eq!(logged(&field.sim, Q_LIST).await, ["error:401"], "no retry");
}

// Quectel refusals the simulator does not make (code 5032, HTTP 401/403 without an envelope, a refusal
// right after a renewal), from a scripted server.

fn quectel_tokens(access: &str, refresh: &str) -> Reply {
    let far = 4_102_444_800_000_i64;
    Reply::json(json!({"code": 200, "msg": "success", "data": {
        "accessToken": {"token": access, "expirationTime": far},
        "refreshToken": {"token": refresh, "expirationTime": far}}}))
}

fn quectel_page() -> Reply {
    Reply::json(json!({"code": 200, "msg": "", "data": {"list": [
        {"productKey": "pk1", "deviceKey": "dk1", "deviceName": "Meter", "deviceType": "mqtt",
         "firmwareVersion": "1.0.0"}], "total": 1}}))
}

fn quectel_client(fake: &Fake, cache: SessionCache) -> QuectelClient {
    QuectelClient::new(
        build_client(&HttpConfig::default()).unwrap(),
        BaseUrl::parse(&fake.url()).unwrap(),
        Credentials {
            username: Some("fleet@example.com".into()),
            secret: Secret::new("q-secret"),
        },
        cache,
        fast_retry(),
    )
    .unwrap()
}

fn stale_cache() -> SessionCache {
    let cache = SessionCache::in_memory();
    cache.set(Some(Secret::new("stale-access")));
    cache
}

#[tokio::test]
async fn quectel_every_kind_of_refusal_leads_to_one_sign_in() {
    for refused in [
        Reply::json(json!({"code": 5032, "msg": "token invalid"})),
        Reply::json(json!({"code": 401, "msg": "token expired"})),
        Reply::status(401, ""),
        Reply::status(403, ""),
    ] {
        let fake = Fake::start().await;
        fake.default(Q_LOGIN, quectel_tokens("fresh", "fresh-refresh"));
        fake.queue(Q_LIST, refused.clone());
        fake.default(Q_LIST, quectel_page());
        let devices = quectel_client(&fake, stale_cache())
            .list_devices()
            .await
            .unwrap_or_else(|err| panic!("{refused:?}: {err:?}"));
        assert_eq!(devices.len(), 1);
        assert_eq!(fake.calls(Q_LOGIN).len(), 1, "{refused:?}");
        let lists = fake.calls(Q_LIST);
        assert_eq!(lists.len(), 2, "{refused:?}");
        assert_eq!(lists[0].authorization.as_deref(), Some("stale-access"));
        assert_eq!(lists[1].authorization.as_deref(), Some("fresh"));
    }
}

#[tokio::test]
async fn quectel_a_refusal_after_the_fresh_sign_in_is_an_auth_error_not_a_loop() {
    for refused in [
        Reply::json(json!({"code": 5032, "msg": "token invalid"})),
        Reply::json(json!({"code": 401, "msg": "token invalid"})),
        Reply::status(403, ""),
    ] {
        let fake = Fake::start().await;
        fake.default(Q_LOGIN, quectel_tokens("fresh", "fresh-refresh"));
        fake.default(Q_LIST, refused.clone());
        let err = quectel_client(&fake, stale_cache())
            .list_devices()
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorKind::Auth, "{refused:?}: {err:?}");
        assert_eq!(fake.calls(Q_LOGIN).len(), 1, "one sign-in: {refused:?}");
        assert_eq!(
            fake.calls(Q_LIST).len(),
            2,
            "the call repeated once, never retried: {refused:?}"
        );
    }
}

#[tokio::test]
async fn quectel_a_token_renewed_before_use_and_then_refused_is_not_renewed_again() {
    let fake = Fake::start().await;
    fake.default(Q_LOGIN, quectel_tokens("fresh", "fresh-refresh"));
    fake.default(
        Q_LIST,
        Reply::json(json!({"code": 401, "msg": "token invalid"})),
    );
    // Kept tokens past their expiry, without a refresh token: the client signs in before the call.
    let cache = SessionCache::in_memory();
    cache.set(Some(Secret::new(
        json!({"access": "old", "accessExpiresMs": 1}).to_string(),
    )));
    let err = quectel_client(&fake, cache)
        .list_devices()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorKind::Auth);
    assert_eq!(fake.calls(Q_LOGIN).len(), 1, "one sign-in per call, in all");
    assert_eq!(fake.calls(Q_LIST).len(), 1);
}
