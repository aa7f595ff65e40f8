//! The account's device list, read page by page until the cloud's `total` is reached.

use ota_core::{now_ms, ApiError, Cloud, Device};
use serde::Deserialize;

use super::client::QuectelClient;
use super::endpoints::Endpoint;
use super::wire::{DeviceEntry, DeviceListQuery, DevicePage};
use crate::http;
use crate::retry::retry;

/// A guard against a cloud whose `total` never comes within reach (100 000 devices at 100 a page).
const MAX_PAGES: u32 = 1000;

pub async fn list_devices(client: &QuectelClient) -> Result<Vec<Device>, ApiError> {
    let page_size = client.page_size;
    let refreshed_at = now_ms();
    let mut devices = Vec::new();
    let mut page_number = 1;
    loop {
        let query = DeviceListQuery {
            page_number,
            page_size,
        };
        let data = retry(&client.retry, "quectel device list page", || {
            client.call_ok(Endpoint::UserDeviceList, &query)
        })
        .await?;
        let page = match data {
            Some(data) => DevicePage::deserialize(&data).map_err(|_| http::unreadable_answer())?,
            None => DevicePage::default(),
        };
        let received = page.list.len();
        devices.extend(
            page.entries()
                .into_iter()
                .filter_map(|e| device_from(e, refreshed_at)),
        );
        let read_so_far = (page_number as usize - 1) * page_size as usize + received;
        let done = match page.total {
            Some(total) => read_so_far >= total.max(0) as usize,
            // Without a total, a short page is the last one.
            None => received < page_size as usize,
        };
        if done || received == 0 {
            break;
        }
        if page_number >= MAX_PAGES {
            tracing::warn!(host = %client.host, pages = page_number, "device list cut short: too many pages");
            break;
        }
        page_number += 1;
    }
    Ok(devices)
}

/// The model's view of a listed device; entries without a deviceKey cannot be acted on and are skipped.
pub(crate) fn device_from(entry: DeviceEntry, refreshed_at: i64) -> Option<Device> {
    let id = entry.device_key.filter(|k| !k.trim().is_empty())?;
    Some(Device {
        account_id: 0,
        cloud: Cloud::Quectel,
        product_key: entry.product_key.filter(|k| !k.is_empty()),
        name: entry
            .device_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| id.clone()),
        model: entry.product_name.unwrap_or_default(),
        manufacturer: None,
        transport: entry
            .device_type
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty()),
        firmware: entry.firmware_version.unwrap_or_default(),
        newest_firmware: None,
        online: entry.online_status == Some(1),
        battery: crate::lenient::battery_percent(entry.battery),
        signal: crate::lenient::signal(entry.signal_strength),
        refreshed_at,
        id,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn device_mapping() {
        let entry: DeviceEntry = serde_json::from_value(json!({
            "productKey": "p1", "deviceKey": "866123", "deviceName": "Tracker", "productName": "BG95",
            "onlineStatus": 1, "deviceType": "BLE", "firmwareVersion": "2.0.1", "battery": 33, "signal": -90
        }))
        .unwrap();
        let d = device_from(entry, 1).unwrap();
        assert_eq!(
            (d.cloud, d.id.as_str(), d.product_key.as_deref()),
            (Cloud::Quectel, "866123", Some("p1"))
        );
        assert_eq!(
            (d.name.as_str(), d.model.as_str(), d.firmware.as_str()),
            ("Tracker", "BG95", "2.0.1")
        );
        assert_eq!(d.transport.as_deref(), Some("ble"));
        assert!(d.online);
        assert_eq!((d.battery, d.signal), (Some(33), Some(-90)));
        let offline: DeviceEntry =
            serde_json::from_value(json!({"deviceKey": "k", "onlineStatus": 0})).unwrap();
        assert!(!device_from(offline, 1).unwrap().online);
        assert!(device_from(DeviceEntry::default(), 1).is_none());
    }
}
