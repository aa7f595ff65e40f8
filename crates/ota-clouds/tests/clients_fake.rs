//! Client behaviour against a scripted server: exact requests, session reuse and renewal, retries, and
//! failures a user would see.

mod common;
mod fake;

use std::time::{Duration, Instant};

use fake::{Fake, Reply};
use ota_clouds::http::{build_client, BaseUrl, HttpConfig, UNREADABLE_ANSWER};
use ota_clouds::onenet::OnenetClient;
use ota_clouds::quectel::QuectelClient;
use ota_clouds::vicohome::{VicohomeClient, VicohomeOptions};
use ota_clouds::RetryPolicy;
use ota_core::cloud::{CloudSession, Credentials, SessionCache, VicohomeOta};
use ota_core::{ErrorKind, Secret};
use serde_json::{json, Value};

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
    }
}

fn creds(user: &str, secret: &str) -> Credentials {
    Credentials {
        username: Some(user.into()),
        secret: Secret::new(secret),
    }
}

fn vicohome(fake: &Fake, cache: SessionCache) -> VicohomeClient {
    let options = VicohomeOptions {
        retry: fast_retry(),
        ..VicohomeOptions::default()
    };
    VicohomeClient::new(
        build_client(&HttpConfig::default()).unwrap(),
        BaseUrl::parse(&fake.url()).unwrap(),
        creds("tech@example.com", "pa55word"),
        cache,
        options,
    )
    .unwrap()
}

/// A Vicohome client with no kept session.
fn fresh_vicohome(fake: &Fake) -> VicohomeClient {
    vicohome(fake, SessionCache::in_memory())
}

/// A fake Vicohome that signs in with the token "tok" and answers `path` with `reply`, every time.
async fn signed_in_answering(path: &str, reply: Reply) -> Fake {
    let fake = Fake::start().await;
    fake.default("/account/login", login_reply("tok"));
    fake.default(path, reply);
    fake
}

fn login_reply(token: &str) -> Reply {
    Reply::json(
        json!({"result": 0, "msg": "success", "data": {"token": {"token": token}, "userId": 7}}),
    )
}

fn camera_list() -> Reply {
    Reply::json(json!({"result": 0, "msg": "success", "data": {"list": [
        {"serialNumber": "SN-1", "deviceName": "Front door", "modelNo": "CG1", "firmwareId": "1.0.0",
         "newestFirmwareId": "1.1.0", "online": 1, "batteryLevel": 80, "signalStrength": -55},
        {"serialNumber": "SN-2", "deviceName": "Garage", "modelNo": "CG2", "firmwareId": "2.0.0",
         "online": false, "batteryLevel": 12}
    ]}}))
}

fn body_json(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn vicohome_sends_exact_requests_and_keeps_the_session() {
    let fake = Fake::start().await;
    fake.default("/account/login", login_reply("tok-1"));
    fake.default("/device/listuserdevices", camera_list());
    let cache = SessionCache::in_memory();
    let client = vicohome(&fake, cache.clone());

    let devices = client.list_devices().await.unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].id, "SN-1");
    assert_eq!(devices[0].newest_firmware.as_deref(), Some("1.1.0"));
    assert!(!devices[1].online);
    client.list_devices().await.unwrap();

    let logins = fake.calls("/account/login");
    assert_eq!(logins.len(), 1, "the second listing reuses the session");
    assert_eq!(
        body_json(&logins[0].body),
        json!({"email": "tech@example.com", "password": "pa55word", "loginType": 0})
    );
    let lists = fake.calls("/device/listuserdevices");
    assert_eq!(lists.len(), 2);
    for call in &lists {
        assert_eq!(call.method, "POST");
        assert_eq!(
            call.authorization.as_deref(),
            Some("tok-1"),
            "token sent verbatim"
        );
        assert_eq!(
            body_json(&call.body),
            json!({"language": "en", "countryNo": "US"})
        );
        assert!(call
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("OTA-Console/"));
    }
    assert_eq!(
        cache.get().map(|s| s.expose().to_string()).as_deref(),
        Some("tok-1")
    );
}

#[tokio::test]
async fn vicohome_uses_a_kept_token_without_signing_in() {
    let fake = Fake::start().await;
    fake.default("/device/listuserdevices", camera_list());
    let cache = SessionCache::in_memory();
    cache.set(Some(Secret::new("kept-token")));
    vicohome(&fake, cache).list_devices().await.unwrap();
    assert!(fake.calls("/account/login").is_empty());
    assert_eq!(
        fake.calls("/device/listuserdevices")[0]
            .authorization
            .as_deref(),
        Some("kept-token")
    );
}

#[tokio::test]
async fn vicohome_signs_in_again_once_when_the_session_expired() {
    for expired in [
        Reply::json(json!({"result": -1027, "msg": "token expired"})),
        Reply::json(json!({"code": -1024, "msg": "signed in elsewhere"})),
        Reply::status(401, "unauthorized"),
    ] {
        let fake = Fake::start().await;
        fake.queue("/account/login", login_reply("tok-1"));
        fake.default("/account/login", login_reply("tok-2"));
        fake.queue("/device/listuserdevices", expired);
        fake.default("/device/listuserdevices", camera_list());
        let devices = fresh_vicohome(&fake).list_devices().await.unwrap();
        assert_eq!(devices.len(), 2);
        assert_eq!(fake.calls("/account/login").len(), 2);
        let lists = fake.calls("/device/listuserdevices");
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[1].authorization.as_deref(), Some("tok-2"));
    }
}

#[tokio::test]
async fn vicohome_wrong_password_is_auth() {
    let fake = Fake::start().await;
    fake.default(
        "/account/login",
        Reply::json(json!({"result": -1001, "msg": "account or password error"})),
    );
    let err = fresh_vicohome(&fake).list_devices().await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Auth);
    assert!(!format!("{err:?}").contains("pa55word"));
}

#[tokio::test]
async fn rate_limit_is_waited_out_as_the_cloud_asked() {
    let fake = Fake::start().await;
    fake.default("/account/login", login_reply("tok"));
    fake.queue(
        "/device/listuserdevices",
        Reply::status(429, "slow down").header("retry-after", "1"),
    );
    fake.default("/device/listuserdevices", camera_list());
    let started = Instant::now();
    let devices = fresh_vicohome(&fake).list_devices().await.unwrap();
    assert_eq!(devices.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(fake.calls("/device/listuserdevices").len(), 2);
}

/// A listing the cloud keeps refusing, and what the user is told.
struct RefusedListing {
    case: &'static str,
    answer: Reply,
    code: ErrorKind,
    vendor_code: Option<&'static str>,
    retry_after_secs: Option<u32>,
    /// How often `path` was called, and why that many.
    calls: (&'static str, usize, &'static str),
}

#[tokio::test]
async fn refused_listings_end_in_the_error_the_cloud_calls_for() {
    let cases = [
        RefusedListing {
            case: "a fresh session refused too is auth",
            answer: Reply::json(json!({"result": -1026, "msg": "invalid"})),
            code: ErrorKind::Auth,
            vendor_code: Some("-1026"),
            retry_after_secs: None,
            calls: ("/account/login", 2, "one sign-in, then exactly one more"),
        },
        RefusedListing {
            case: "a long Retry-After is handed back with the wait",
            answer: Reply::status(429, "").header("retry-after", "120"),
            code: ErrorKind::RateLimited,
            vendor_code: None,
            retry_after_secs: Some(120),
            calls: ("/device/listuserdevices", 1, "not waited out"),
        },
        RefusedListing {
            case: "server errors are retried, then reported",
            answer: Reply::status(503, "maintenance"),
            code: ErrorKind::Retryable,
            vendor_code: Some("HTTP 503"),
            retry_after_secs: None,
            calls: ("/device/listuserdevices", 3, "max_attempts"),
        },
    ];
    for listing in cases {
        let case = listing.case;
        let fake = signed_in_answering("/device/listuserdevices", listing.answer).await;
        let err = fresh_vicohome(&fake).list_devices().await.unwrap_err();
        assert_eq!(err.code, listing.code, "{case}");
        if let Some(vendor_code) = listing.vendor_code {
            assert_eq!(err.vendor_code.as_deref(), Some(vendor_code), "{case}");
        }
        if let Some(wait) = listing.retry_after_secs {
            assert_eq!(err.retry_after_secs, Some(wait), "{case}");
        }
        let (path, count, why) = listing.calls;
        assert_eq!(fake.calls(path).len(), count, "{case}: {why}");
    }
}

#[tokio::test]
async fn malformed_answers_are_retryable_and_never_quoted() {
    for body in [
        "<html>oops token=abc</html>",
        "",
        "{\"result\": 0, \"data\": {\"list\": 5}}",
        "[1,2",
    ] {
        let fake = signed_in_answering("/device/listuserdevices", Reply::status(200, body)).await;
        let err = fresh_vicohome(&fake).list_devices().await.unwrap_err();
        assert_eq!(err.code, ErrorKind::Retryable, "{body}");
        assert_eq!(err.message, UNREADABLE_ANSWER);
        assert!(!err.display_line().contains("abc"));
    }
}

#[tokio::test]
async fn starting_an_update_is_never_repeated() {
    let fake = signed_in_answering("/device/otastart/", Reply::status(503, "")).await;
    let err = fresh_vicohome(&fake).start_ota("SN-1").await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Retryable);
    assert_eq!(fake.calls("/device/otastart/").len(), 1);
}

#[tokio::test]
async fn start_sends_the_base_entry_and_reads_the_status() {
    let fake = signed_in_answering(
        "/device/otastart/",
        Reply::json(json!({"result": 0, "msg": "success", "data": {
            "inProgress": true, "otaStatus": 0, "serialNumber": "SN-1", "status": 1,
            "totalSize": 15728640, "transferredSize": 0}})),
    )
    .await;
    let status = fresh_vicohome(&fake).start_ota("SN-1").await.unwrap();
    assert!(status.in_progress);
    assert_eq!(
        (status.ota_status, status.total, status.transferred),
        (0, 15_728_640, 0)
    );
    assert_eq!(
        body_json(&fake.calls("/device/otastart/")[0].body),
        json!({"serialNumber": "SN-1", "app": "vicohome", "countryNo": "US", "language": "en", "tenantId": "vicohome"})
    );
}

#[tokio::test]
async fn low_battery_start_explains_what_to_do() {
    let fake = signed_in_answering(
        "/device/otastart/",
        Reply::json(json!({"result": -103, "msg": "battery low"})),
    )
    .await;
    let err = fresh_vicohome(&fake).start_ota("SN-1").await.unwrap_err();
    common::assert_low_battery_explained(&err);
}

#[tokio::test]
async fn install_failure_is_a_status_with_its_error() {
    let fake = signed_in_answering(
        "/device/otastatus/",
        Reply::json(json!({"result": -10402, "msg": "install failed", "data": {
            "inProgress": false, "otaStatus": 2, "serialNumber": "SN-1", "totalSize": 100, "transferredSize": 100}})),
    )
    .await;
    let status = fresh_vicohome(&fake).ota_status("SN-1").await.unwrap();
    assert_eq!(status.ota_status, 5);
    assert_eq!(status.error.unwrap().code, ErrorKind::Device);
    assert_eq!(
        body_json(&fake.calls("/device/otastatus/")[0].body),
        json!({"serialNumber": "SN-1"})
    );
}

#[tokio::test]
async fn current_firmware_reads_the_single_device() {
    let fake = signed_in_answering(
        "/device/selectsingledevice",
        Reply::json(json!({"result": 0, "data": {"serialNumber": "SN-1", "firmwareId": "1.1.0", "firmwareStatus": 0}})),
    )
    .await;
    let fw = fresh_vicohome(&fake)
        .current_firmware("SN-1")
        .await
        .unwrap();
    assert_eq!(fw.as_deref(), Some("1.1.0"));
}

// ---- Quectel ----

const Q_LOGIN: &str = "/v2/enduser/enduserapi/emailPwdLogin";
const Q_REFRESH: &str = "/v2/enduser/enduserapi/refreshToken";
const Q_LIST: &str = "/v2/binding/enduserapi/userDeviceList";

fn quectel(fake: &Fake) -> QuectelClient {
    QuectelClient::new(
        build_client(&HttpConfig::default()).unwrap(),
        BaseUrl::parse(&fake.url()).unwrap(),
        creds("fleet@example.com", "q-secret"),
        SessionCache::in_memory(),
        fast_retry(),
    )
    .unwrap()
}

/// A scripted Quectel whose sign-in hands out the tokens `access` and `refresh`.
async fn quectel_signing_in(access: &str, refresh: &str) -> Fake {
    let fake = Fake::start().await;
    fake.default(Q_LOGIN, quectel_tokens(access, refresh));
    fake
}

/// The first listing is answered `refused`, every later one `page`.
fn refuse_first_listing(fake: &Fake, refused: Reply, page: Reply) {
    fake.queue(Q_LIST, refused);
    fake.default(Q_LIST, page);
}

/// The access token the second listing was sent with.
fn second_listing_token(fake: &Fake) -> Option<String> {
    fake.calls(Q_LIST)[1].authorization.clone()
}

fn quectel_tokens(access: &str, refresh: &str) -> Reply {
    let far = 4_102_444_800_000_i64; // 2100-01-01
    Reply::json(json!({"code": 200, "msg": "success", "data": {
        "accessToken": {"token": access, "expirationTime": far},
        "refreshToken": {"token": refresh, "expirationTime": far}}}))
}

fn quectel_page(start: usize, count: usize, total: usize) -> Reply {
    let list: Vec<Value> = (start..start + count)
        .map(|i| json!({"productKey": "pk1", "deviceKey": format!("dk{i}"), "deviceName": format!("Meter {i}"),
            "productName": "EC200U", "onlineStatus": i % 2, "deviceType": if i % 3 == 0 { "ble" } else { "mqtt" },
            "firmwareVersion": "1.0.0"}))
        .collect();
    Reply::json(
        json!({"code": 200, "msg": "", "data": {"list": list, "total": total, "pageNum": 1, "pageSize": 100}, "extMsg": ""}),
    )
}

/// A fake Quectel answering page `n` of 100 of a list of `total` (pages after the first are asked for
/// at once, so each answer goes by its page number, not by arrival).
fn quectel_pages(fake: &Fake, total: usize, failing_page: Option<usize>) {
    for (index, start) in (0..total).step_by(100).enumerate() {
        let number = index + 1;
        let reply = if Some(number) == failing_page {
            Reply::status(500, "")
        } else {
            quectel_page(start, (total - start).min(100), total)
        };
        fake.default(&format!("{Q_LIST}?pageNumber={number}&pageSize=100"), reply);
    }
}

#[tokio::test]
async fn quectel_signs_in_with_a_form_and_reads_every_page() {
    let fake = quectel_signing_in("acc-1", "ref-1").await;
    quectel_pages(&fake, 230, None);
    let devices = quectel(&fake).list_devices().await.unwrap();
    assert_eq!(devices.len(), 230);
    let ids: Vec<String> = (0..230).map(|i| format!("dk{i}")).collect();
    assert_eq!(
        devices.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
        ids,
        "every device once, in the cloud's order"
    );
    assert_eq!(devices[0].transport.as_deref(), Some("ble"));

    let login = &fake.calls(Q_LOGIN)[0];
    assert_eq!(login.method, "POST");
    assert_eq!(
        login.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(login.body, "email=fleet%40example.com&pwd=q-secret");
    let pages = fake.calls(Q_LIST);
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].method, "GET");
    assert_eq!(pages[0].query, "pageNumber=1&pageSize=100");
    let mut queries: Vec<&str> = pages.iter().map(|p| p.query.as_str()).collect();
    queries.sort_unstable();
    assert_eq!(
        queries,
        [
            "pageNumber=1&pageSize=100",
            "pageNumber=2&pageSize=100",
            "pageNumber=3&pageSize=100"
        ]
    );
    assert!(pages
        .iter()
        .all(|p| p.authorization.as_deref() == Some("acc-1")));
}

#[tokio::test]
async fn quectel_a_page_that_keeps_failing_fails_the_whole_list() {
    let fake = quectel_signing_in("acc-1", "ref-1").await;
    quectel_pages(&fake, 950, Some(6));
    let err = quectel(&fake).list_devices().await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Retryable, "{err:?}");
    let sixth = fake
        .calls(Q_LIST)
        .into_iter()
        .filter(|p| p.query == "pageNumber=6&pageSize=100")
        .count();
    assert_eq!(sixth, 3, "the failing page is retried as any read is");
}

#[tokio::test]
async fn quectel_refreshes_a_refused_token_once() {
    let fake = quectel_signing_in("acc-1", "ref-1").await;
    fake.default(Q_REFRESH, quectel_tokens("acc-2", "ref-2"));
    let expired = Reply::json(json!({"code": 401, "msg": "token expired"}));
    refuse_first_listing(&fake, expired, quectel_page(0, 3, 3));
    let devices = quectel(&fake).list_devices().await.unwrap();
    assert_eq!(devices.len(), 3);
    assert_eq!(fake.calls(Q_LOGIN).len(), 1, "refresh, not a new sign-in");
    let refresh = &fake.calls(Q_REFRESH)[0];
    assert_eq!(refresh.method, "PUT");
    assert_eq!(refresh.body, "refreshToken=ref-1");
    assert_eq!(second_listing_token(&fake).as_deref(), Some("acc-2"));
}

#[tokio::test]
async fn quectel_signs_in_again_when_the_refresh_fails() {
    // The first sign-in hands out acc-1, every later one acc-3.
    let fake = quectel_signing_in("acc-3", "ref-3").await;
    fake.queue(Q_LOGIN, quectel_tokens("acc-1", "ref-1"));
    fake.default(
        Q_REFRESH,
        Reply::json(json!({"code": 401, "msg": "refresh token expired"})),
    );
    refuse_first_listing(&fake, Reply::status(401, ""), quectel_page(0, 1, 1));
    quectel(&fake).list_devices().await.unwrap();
    assert_eq!(fake.calls(Q_LOGIN).len(), 2);
    assert_eq!(second_listing_token(&fake).as_deref(), Some("acc-3"));
}

#[tokio::test]
async fn quectel_wrong_password_is_auth() {
    let fake = Fake::start().await;
    fake.default(
        Q_LOGIN,
        Reply::json(json!({"code": 5013, "msg": "password error"})),
    );
    let err = quectel(&fake).list_devices().await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Auth);
    assert!(!format!("{err:?}").contains("q-secret"));
}

// ---- OneNET ----

#[tokio::test]
async fn onenet_listing_sends_a_valid_product_token() {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.encode(b"0123456789abcdef0123456789abcdef");
    let fake = Fake::start().await;
    fake.default(
        "/_sim/onenet/devices",
        Reply::json(json!({"errno": 0, "error": "succ", "data": {"devices": [
            {"dev_id": 527776559, "name": "Pump", "manuf": "102", "model": "10201", "version": "V1",
             "online": true, "battery": 70, "signal": 18}]}})),
    );
    let client = OnenetClient::new(
        build_client(&HttpConfig::default()).unwrap(),
        BaseUrl::parse(&fake.url()).unwrap(),
        creds("245528", &key),
        fast_retry(),
    )
    .unwrap();
    let devices = client.list_devices().await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].id, "527776559");
    assert_eq!(devices[0].product_key.as_deref(), Some("245528"));
    let call = &fake.calls("/_sim/onenet/devices")[0];
    assert_eq!(call.query, "product_id=245528");
    let token = call.authorization.as_deref().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let parsed = ota_clouds::onenet::token::verify(&Secret::new(key), token, now).unwrap();
    assert_eq!(parsed.res, "products/245528");
    assert!(token.contains("res=products%2F245528"));

    fake.default(
        "/_sim/onenet/devices",
        Reply::json(json!({"errno": 1, "error": "auth failed"})),
    );
    let err = client.list_devices().await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Auth);
}
