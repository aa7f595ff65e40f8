//! The seed's examples (`vicohome-startOta.md`) against the simulator's own wire structs.

use ota_sim::vicohome::wire::{
    decode, BaseEntry, BodyError, DeviceRequest, Envelope, OtaStatusData, StartOtaRequest,
};
use serde_json::Value;

/// The seed's request example, byte for byte.
const SEED_REQUEST: &str = r#"{
  "serialNumber": "ABC123456789",
  "app": "vicohome",
  "countryNo": "US",
  "language": "en",
  "tenantId": "AAA12345678"
}"#;

/// The seed's response example, byte for byte.
const SEED_RESPONSE: &str = r#"{
  "result": 0,
  "msg": "success",
  "data": {
    "inProgress": true,
    "otaStatus": 0,
    "serialNumber": "ABC123456789",
    "status": 1,
    "totalSize": 15728640,
    "transferredSize": 0
  }
}"#;

#[test]
fn seed_request_decodes_and_reencodes() {
    let request: StartOtaRequest =
        decode(Some("application/json"), SEED_REQUEST.as_bytes()).unwrap();
    assert_eq!(
        request,
        StartOtaRequest {
            serial_number: "ABC123456789".into(),
            base: BaseEntry {
                app: Some("vicohome".into()),
                country_no: Some("US".into()),
                language: Some("en".into()),
                tenant_id: Some("AAA12345678".into()),
            },
        }
    );
    let again: Value = serde_json::to_value(&request).unwrap();
    assert_eq!(again, serde_json::from_str::<Value>(SEED_REQUEST).unwrap());
}

#[test]
fn seed_response_encodes_identically() {
    let ours = Envelope {
        result: 0,
        msg: "success".to_string(),
        data: Some(OtaStatusData {
            in_progress: true,
            ota_status: 0,
            serial_number: "ABC123456789".into(),
            status: 1,
            total_size: 15_728_640,
            transferred_size: 0,
            target_firmware: None,
        }),
    };
    let seed: Value = serde_json::from_str(SEED_RESPONSE).unwrap();
    assert_eq!(serde_json::to_value(&ours).unwrap(), seed);
    let decoded: Envelope<OtaStatusData> = serde_json::from_str(SEED_RESPONSE).unwrap();
    assert_eq!(decoded, ours);
}

#[test]
fn requests_take_only_the_documented_form() {
    // Unknown fields are ignored, as a JSON server does.
    let request: DeviceRequest = decode(
        Some("application/json;charset=UTF-8"),
        br#"{"serialNumber": "VC1", "extra": [1, 2]}"#,
    )
    .unwrap();
    assert_eq!(request.serial_number, "VC1");
    // Another name, another type, another encoding: all refused. (BaseEntry fields are optional: the
    // seed marks only serialNumber as required.)
    let refused = |content_type: &str, body: &str| {
        decode::<StartOtaRequest>(Some(content_type), body.as_bytes()).unwrap_err()
    };
    let full = r#"{"serialNumber":"VC1","app":"vicohome","countryNo":"US","language":"en","tenantId":"t"}"#;
    assert!(decode::<StartOtaRequest>(Some("application/json"), full.as_bytes()).is_ok());
    let renamed = full.replace("serialNumber", "serial_number");
    assert!(refused("application/json", &renamed)
        .to_string()
        .contains("serialNumber"));
    let numeric = full.replace(r#""VC1""#, "12345");
    assert!(matches!(
        refused("application/json", &numeric),
        BodyError::Unreadable(_)
    ));
    let no_tenant = full.replace(r#","tenantId":"t""#, "");
    assert!(decode::<StartOtaRequest>(Some("application/json"), no_tenant.as_bytes()).is_ok());
    let numeric_tenant = full.replace(r#""tenantId":"t""#, r#""tenantId":7"#);
    assert!(matches!(
        refused("application/json", &numeric_tenant),
        BodyError::Unreadable(_)
    ));
    assert_eq!(
        refused("application/x-www-form-urlencoded", "serialNumber=VC1"),
        BodyError::NotJson("application/x-www-form-urlencoded".into())
    );
    assert!(decode::<DeviceRequest>(None, br#"{"serialNumber":"VC1"}"#).is_err());
}
