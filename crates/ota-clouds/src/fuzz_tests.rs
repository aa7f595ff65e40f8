//! Property tests of every decoder that reads what a cloud sends: arbitrary bytes, arbitrary JSON in
//! the right envelope, odd statuses. None may panic; each either decodes or is an `ApiError`.
//! The case budget is fixed so CI time is too (`PROPTEST_CASES` overrides it locally).

use proptest::prelude::*;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::RawResponse;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep, with the numbers and strings clouds get wrong.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        "-?[0-9]{1,25}(\\.[0-9]{0,3})?".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Field names: mostly the ones the decoders look for, so the interesting paths are reached.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "result",
            "msg",
            "data",
            "code",
            "errno",
            "error",
            "list",
            "total",
            "serialNumber",
            "otaStatus",
            "inProgress",
            "targetFirmwareId",
            "transferredSize",
            "totalSize",
            "deviceName",
            "modelNo",
            "firmwareId",
            "online",
            "batteryLevel",
            "token",
            "size",
            "md5",
            "signal",
            "power",
            "retry",
            "interval",
            "type",
            "target",
            "deviceKey",
            "productKey",
            "planId",
            "deviceStatus",
            "userConfirmStatus",
            "devices",
            "dev_id",
            "version",
            "componentVersion",
            "planStartTime",
            "planEndTime",
            "upgradeProgress",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z_]{1,10}",
    ]
}

fn status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        Just(200u16),
        Just(206),
        Just(400),
        Just(401),
        Just(404),
        Just(429),
        Just(500),
        Just(503),
        100u16..600,
    ]
    .prop_map(|s| StatusCode::from_u16(s).unwrap_or(StatusCode::OK))
}

fn raw(status: StatusCode, body: Vec<u8>) -> RawResponse {
    RawResponse {
        status,
        retry_after_secs: None,
        body,
    }
}

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        any_json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        (any_json(), any_json(), any_json()).prop_map(|(code, msg, data)| {
            serde_json::to_vec(&json!({"result": code, "msg": msg, "data": data}))
                .unwrap_or_default()
        }),
        (any_json(), any_json()).prop_map(|(code, data)| {
            serde_json::to_vec(&json!({"code": code, "msg": "x", "data": data})).unwrap_or_default()
        }),
        (any_json(), any_json()).prop_map(|(errno, data)| {
            serde_json::to_vec(&json!({"errno": errno, "error": "x", "data": data}))
                .unwrap_or_default()
        }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn vicohome_answers_never_panic(status in status(), body in bodies(), data in any_json()) {
        let answer = raw(status, body);
        let _ = crate::vicohome::client::envelope_of(&answer, "h");
        if let Some(list) = crate::vicohome::wire::device_list(&data) {
            for info in list {
                let _ = crate::vicohome::client::device_from(info, 0);
            }
        }
        if let Ok(status_data) = crate::vicohome::wire::OtaStatusData::deserialize(&data) {
            let status = crate::vicohome::client::status_from("SN", &status_data);
            prop_assert!(status.serial == "SN" || !status.serial.is_empty());
        }
    }

    #[test]
    fn quectel_answers_never_panic(status in status(), body in bodies(), data in any_json()) {
        let answer = raw(status, body);
        let _ = crate::quectel::client::envelope_of(&answer, "h");
        if let Ok(page) = crate::quectel::wire::DevicePage::deserialize(&data) {
            for entry in page.entries() {
                let _ = crate::quectel::devices::device_from(entry, 0);
            }
        }
        if let Ok(plan) = crate::quectel::plans::decode::<crate::quectel::answers::PlanAnswer>(&data)
            .map(crate::quectel::UpgradePlan::from)
        {
            prop_assert!(plan.percent() <= 100);
            let _ = plan.target_version();
            let _ = plan.is_finished();
            let _ = plan.target();
        }
        let _ = crate::quectel::plans::decode::<crate::quectel::answers::BlePlanAnswer>(&data)
            .map(crate::quectel::BlePlan::from);
        let _ = crate::quectel::plans::decode::<crate::quectel::answers::BatchAnswer>(&data)
            .map(crate::quectel::BatchOutcome::from);
    }

    #[test]
    fn onenet_answers_never_panic(status in status(), body in bodies(), data in any_json()) {
        let answer = raw(status, body);
        let _ = crate::onenet::client::data_of(&answer, "h");
        if let Ok(list) = crate::onenet::wire::DeviceListData::deserialize(&data) {
            for entry in list.entries() {
                let _ = crate::onenet::client::device_from(entry, "1", 0);
            }
        }
        if let Ok(check) = crate::onenet::wire::CheckData::deserialize(&data) {
            let device = ota_core::onenet::OnenetDeviceRef {
                dev_id: "1".into(),
                manuf: None,
                model: None,
                version: "V1".into(),
                task_type: ota_core::onenet::OnenetTaskType::Application,
            };
            if let Ok(task) = crate::onenet::ota::task_from(&device, check) {
                prop_assert!(task.size > 0 && task.md5.len() == 32);
                prop_assert!(crate::onenet::ota::valid_download_token(&task.token));
            }
        }
    }

    #[test]
    fn onenet_tokens_parse_or_refuse(text in ".{0,200}", now in any::<u64>()) {
        let _ = crate::onenet::token::parse(&text);
        let key = ota_core::Secret::new("AAECAwQFBgcICQoLDA0ODw==");
        let _ = crate::onenet::token::verify(&key, &text, now);
    }

    #[test]
    fn onenet_tokens_built_from_parts_parse_or_refuse(
        version in "(2018-10-31|.{0,12})",
        res in "(products%2F[0-9]{1,8}|.{0,20})",
        et in "([0-9]{1,20}|.{0,8})",
        method in "(md5|sha1|sha256|.{0,6})",
        sign in "([A-Za-z0-9%+/=]{0,40})",
    ) {
        let text = format!("version={version}&res={res}&et={et}&method={method}&sign={sign}");
        let _ = crate::onenet::token::parse(&text);
        let key = ota_core::Secret::new("AAECAwQFBgcICQoLDA0ODw==");
        prop_assert!(crate::onenet::token::verify(&key, &text, 0).is_err() || sign.len() >= 20);
    }

    #[test]
    fn content_ranges_parse_or_refuse(text in "(bytes )?[0-9 -]{0,30}(/[0-9]{0,25})?") {
        if let Some((a, b, len)) = crate::onenet::fetch::parse_content_range(&text) {
            prop_assert!(text.contains(&a.to_string()) && text.contains(&b.to_string()));
            prop_assert!(text.contains(&len.to_string()));
        }
    }

    #[test]
    fn retry_after_never_panics(text in ".{0,40}") {
        let _ = crate::http::parse_retry_after(&text);
    }
}
