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

use common::{
    advance_clock, connector, fast_retry, fault, fleet_of, logged, spawn_sim, MemorySecrets,
};
use fake::{Fake, Reply};
use ota_clouds::http::{build_client, BaseUrl, HttpConfig};
use ota_clouds::quectel::QuectelClient;
use ota_clouds::vicohome::VicohomeClient;
use ota_clouds::VicohomeOptions;
use ota_core::cloud::{CloudSession, Credentials, SessionCache};
use ota_core::secrets::{SecretSlot, SecretStore};
use ota_core::{Account, ApiError, Cloud, Console, Device, ErrorKind, NewAccount, Secret, Store};
use ota_sim::{SimConfig, SimHandle};
use serde_json::json;

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
    let account = common::sandbox_account(sim, cloud).await;
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

/// How one cloud's sessions show in the simulator's log, for the tests both clouds share.
struct SessionCloud {
    cloud: Cloud,
    login: &'static str,
    list: &'static str,
    /// Quectel renews through a refresh token before it signs in again; the refresh's log entry when
    /// it is refused. Vicohome has no refresh.
    refused_refresh: Option<(&'static str, &'static str)>,
    /// A kept session the cloud never issued, and a piece of it no fresh session contains.
    stale: String,
    stale_marker: &'static str,
    /// The listing's log entry for a token the cloud never issued, and for an expired one.
    never_issued: &'static str,
    expired: &'static str,
    /// The sign-in's log entry for a wrong password.
    wrong_password: &'static str,
    /// How far the clock moves for a session kept by the last run to be expired (Quectel's refresh
    /// token lives seven access-token lives).
    expire_after: Duration,
}

fn session_clouds() -> [SessionCloud; 2] {
    [
        SessionCloud {
            cloud: Cloud::Vicohome,
            login: VICO_LOGIN,
            list: VICO_LIST,
            refused_refresh: None,
            stale: "token-from-another-data-folder".into(),
            stale_marker: "token-from-another-data-folder",
            never_issued: "error:-1026",
            expired: "error:-1027",
            wrong_password: "error:-1",
            expire_after: TOKEN_TTL + Duration::from_secs(60),
        },
        SessionCloud {
            cloud: Cloud::Quectel,
            login: Q_LOGIN,
            list: Q_LIST,
            refused_refresh: Some((Q_REFRESH, "error:401")),
            stale: quectel_session("qa_from_another_folder", "qr_from_another_folder"),
            stale_marker: "from_another_folder",
            never_issued: "error:401",
            expired: "error:401",
            wrong_password: "error:401",
            expire_after: TOKEN_TTL * 8,
        },
    ]
}

/// The sign-ins and listings the simulator logged for the cloud of `case` (`what` says why those), and
/// the one refused refresh where the cloud has refresh tokens: a stale one is tried once, never again.
async fn assert_calls(
    sim: &SimHandle,
    case: &SessionCloud,
    logins: &[&str],
    lists: &[&str],
    what: &str,
) {
    let cloud = case.cloud;
    assert_eq!(logged(sim, case.login).await, logins, "{cloud}: {what}");
    assert_eq!(logged(sim, case.list).await, lists, "{cloud}: {what}");
    if let Some((refresh, refused)) = case.refused_refresh {
        let refreshes = logged(sim, refresh).await;
        assert_eq!(
            refreshes,
            [refused],
            "{cloud}: one stale refresh token tried"
        );
    }
}

/// A simulator, a first run on a fresh data folder and the cloud's account added on it (with
/// `wrong_password` where given).
async fn first_run(cloud: Cloud, wrong_password: Option<&str>) -> (Field, Console, Account) {
    let field = Field::start().await;
    let run = field.run();
    let account = field.add_account(&run, cloud, wrong_password).await;
    (field, run, account)
}

// ---- both clouds ----

#[tokio::test]
async fn a_token_the_cloud_never_issued_costs_one_sign_in_then_is_replaced() {
    for case in session_clouds() {
        let cloud = case.cloud;
        let (field, first_run, account) = first_run(cloud, None).await;
        keep_session(&first_run, &field.secrets, &account, &case.stale);
        let devices = list(&first_run, &account).await.unwrap();
        let fleet = fleet_of(&field.sim, cloud.as_str()).await;
        assert_eq!(devices.len(), fleet.len(), "{cloud}");
        let lists = [case.never_issued, "ok"];
        assert_calls(&field.sim, &case, &["ok"], &lists, "exactly one sign-in").await;
        let renewed = kept_session(&first_run, &field.secrets, &account).unwrap();
        assert!(!renewed.contains(case.stale_marker), "{cloud}: {renewed}");
        drop(first_run);

        // The next run uses the new token: no sign-in (nor refresh) at all.
        list(&field.run(), &account).await.unwrap();
        let lists = [case.never_issued, "ok", "ok"];
        assert_calls(&field.sim, &case, &["ok"], &lists, "no second sign-in").await;
    }
}

#[tokio::test]
async fn a_session_that_expired_since_the_last_run_costs_one_sign_in() {
    for case in session_clouds() {
        let cloud = case.cloud;
        let (field, first_run, account) = first_run(cloud, None).await;
        list(&first_run, &account).await.unwrap();
        assert_eq!(logged(&field.sim, case.login).await, ["ok"], "{cloud}");
        drop(first_run);

        advance_clock(&field.sim, case.expire_after).await;
        list(&field.run(), &account).await.unwrap();
        let lists = ["ok", case.expired, "ok"];
        assert_calls(
            &field.sim,
            &case,
            &["ok", "ok"],
            &lists,
            "exactly one more sign-in",
        )
        .await;
    }
}

#[tokio::test]
async fn a_wrong_password_behind_a_stale_token_is_one_attempt_and_a_clear_auth_error() {
    for case in session_clouds() {
        let (field, console, account) = first_run(case.cloud, Some("not-the-password")).await;
        keep_session(&console, &field.secrets, &account, &case.stale);

        let err = list(&console, &account).await.unwrap_err();
        assert_wrong_password_error(&err);
        let (logins, lists) = ([case.wrong_password], [case.never_issued]);
        assert_calls(&field.sim, &case, &logins, &lists, "one attempt, no retry").await;
    }
}

// ---- Vicohome ----

#[tokio::test]
async fn vicohome_a_cloud_that_refuses_the_fresh_token_too_gets_no_second_sign_in() {
    let (field, console, account) = first_run(Cloud::Vicohome, None).await;
    list(&console, &account).await.unwrap();

    // Every token expires on its first use, the fresh one included.
    fault(
        &field.sim,
        json!({"kind": "token_expired", "target": "*", "count": 50}),
    )
    .await;
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

/// Every way Quectel says a token is no good: codes 5032 and 401 in the envelope (with either wording),
/// and HTTP 401 or 403 without one.
fn quectel_refusals() -> [Reply; 5] {
    [
        Reply::json(json!({"code": 5032, "msg": "token invalid"})),
        Reply::json(json!({"code": 401, "msg": "token expired"})),
        Reply::json(json!({"code": 401, "msg": "token invalid"})),
        Reply::status(401, ""),
        Reply::status(403, ""),
    ]
}

/// A scripted Quectel whose sign-in hands out the access token "fresh".
async fn quectel_signing_in_fresh() -> Fake {
    let fake = Fake::start().await;
    fake.default(Q_LOGIN, quectel_tokens("fresh", "fresh-refresh"));
    fake
}

fn stale_cache() -> SessionCache {
    let cache = SessionCache::in_memory();
    cache.set(Some(Secret::new("stale-access")));
    cache
}

#[tokio::test]
async fn quectel_every_kind_of_refusal_leads_to_one_sign_in() {
    for refused in quectel_refusals() {
        let fake = quectel_signing_in_fresh().await;
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
    for refused in quectel_refusals() {
        let fake = quectel_signing_in_fresh().await;
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
    let fake = quectel_signing_in_fresh().await;
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
