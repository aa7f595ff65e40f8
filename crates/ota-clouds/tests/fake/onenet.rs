//! A scripted OneNET: one application task for [`PACKAGE`], and a client signed for product 245528.

use ota_clouds::http::BaseUrl;
use ota_clouds::onenet::OnenetClient;
use ota_clouds::RetryPolicy;
use ota_core::cloud::Credentials;
use ota_core::onenet::{OnenetDeviceRef, OnenetTaskType};
use ota_core::Secret;
use serde_json::{json, Value};

use super::{Fake, Reply};

/// The download token of the scripted task.
pub const TOKEN: &str = "ota_iF0hnXrq2CxLrP8vZ39l";
/// The package the scripted task announces (its size and MD5).
pub const PACKAGE: &[u8] = b"firmware bytes, 32 of them, v2.0";

/// OneNET's success envelope around `data`.
pub fn ok(data: Value) -> Reply {
    Reply::json(json!({"errno": 0, "error": "succ", "data": data}))
}

/// Lower-case hex MD5 of `bytes`, as OneNET writes it.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A OneNET whose task for [`PACKAGE`] asks for `retry` retries `interval` seconds apart, and whose
/// package download answers `download`; listing, check, tasking, token check and report succeed.
pub async fn scripted(retry: i64, interval: i64, download: Reply) -> Fake {
    let fake = Fake::start().await;
    let task = json!({"target": "V2", "token": TOKEN, "size": PACKAGE.len(), "md5": md5_hex(PACKAGE),
        "signal": 10, "power": 50, "retry": retry, "interval": interval, "type": 1});
    fake.default("/_sim/onenet/devices", ok(json!({"devices": []})));
    fake.default("/ota/south/check", ok(task.clone()));
    fake.default("/ota/south/tasking", ok(task));
    fake.default(
        &format!("/ota/south/download/{TOKEN}/check"),
        ok(json!(null)),
    );
    fake.default(&format!("/ota/south/download/{TOKEN}"), download);
    fake.default("/ota/south/report", ok(json!(null)));
    fake
}

/// A client of product 245528 on `fake` over `http`, never retrying on its own.
pub fn client(fake: &Fake, http: reqwest::Client) -> OnenetClient {
    OnenetClient::new(
        http,
        BaseUrl::parse(&fake.url()).unwrap(),
        Credentials {
            username: Some("245528".into()),
            secret: Secret::new("b25lbmV0LXRlc3QtYWNjZXNzLWtleS0wMDAx"),
        },
        RetryPolicy::none(),
    )
    .unwrap()
}

/// The scripted device, 527776559, on firmware V1.
pub fn device() -> OnenetDeviceRef {
    OnenetDeviceRef {
        dev_id: "527776559".into(),
        manuf: Some("102".into()),
        model: Some("10201".into()),
        version: "V1".into(),
        task_type: OnenetTaskType::Application,
    }
}
