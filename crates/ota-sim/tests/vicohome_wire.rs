//! The seed's examples (`vicohome-startOta.md`) against the simulator's own wire structs.

use ota_sim::vicohome::wire::{BaseEntry, DeviceRequest, Envelope, OtaStatusData};
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
    let request: DeviceRequest = serde_json::from_str(SEED_REQUEST).unwrap();
    assert_eq!(
        request,
        DeviceRequest {
            serial_number: Some("ABC123456789".into()),
            base: BaseEntry {
                app: Some("vicohome".into()),
                country_no: Some("US".into()),
                language: Some("en".into()),
                tenant_id: Some("AAA12345678".into()),
            },
        }
    );
    assert_eq!(request.serial(), Some("ABC123456789"));
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
fn requests_decode_tolerantly() {
    let request: DeviceRequest =
        serde_json::from_str(r#"{"serialNumber": 12345, "extra": [1, 2], "tenantId": null}"#)
            .unwrap();
    assert_eq!(request.serial(), Some("12345"));
    assert_eq!(request.base.tenant_id, None);
    let blank: DeviceRequest = serde_json::from_str(r#"{"serialNumber": "  "}"#).unwrap();
    assert_eq!(blank.serial(), None);
}
