//! The account's device list, read page by page until the cloud's `total` is reached. Once the first
//! page has said how many there are, the remaining pages are asked for a few at a time (each still
//! through the host's rate limiter and the retry loop) and taken in page order as they come in.

use futures::stream::{self, StreamExt};
use ota_core::{now_ms, ApiError, Cloud, Device};
use serde::Deserialize;

use super::client::QuectelClient;
use super::endpoints::Endpoint;
use super::wire::{DeviceEntry, DeviceListQuery, DevicePage};
use crate::http;
use crate::retry::retry;

/// A guard against a cloud whose `total` never comes within reach (100 000 devices at 100 a page).
const MAX_PAGES: u32 = 1000;

/// Pages in flight at once after the first: enough to hide each page's round trip, few enough not to
/// look like a burst to the cloud (the rate limiter paces them anyway).
pub const PAGES_AT_ONCE: usize = 4;

pub async fn list_devices(client: &QuectelClient) -> Result<Vec<Device>, ApiError> {
    let page_size = client.page_size;
    let refreshed_at = now_ms();
    let mut devices = Vec::new();
    let mut read = Progress {
        page_size,
        page_number: 0,
        received: 0,
        total: None,
    };
    loop {
        let next = read.page_number + 1;
        // Without a total only a short page says where the list ends, so pages go one at a time.
        let last_wanted = match read.total {
            Some(total) => pages_for(total, page_size).max(next).min(MAX_PAGES),
            None => next,
        };
        if next > last_wanted {
            return Ok(devices);
        }
        let mut pages = stream::iter(next..=last_wanted)
            .map(|page_number| async move { (page_number, fetch_page(client, page_number).await) })
            .buffered(PAGES_AT_ONCE);
        while let Some((page_number, page)) = pages.next().await {
            let page = page?;
            read.page_number = page_number;
            read.received = page.list.len();
            read.total = page.total;
            devices.extend(
                page.into_entries()
                    .into_iter()
                    .filter_map(|e| device_from(e, refreshed_at)),
            );
            if read.is_done() {
                return Ok(devices);
            }
            if page_number >= MAX_PAGES {
                tracing::warn!(host = %client.host, pages = page_number, "device list cut short: too many pages");
                return Ok(devices);
            }
        }
    }
}

/// Where the reading of a list stands after the latest page.
struct Progress {
    page_size: u32,
    page_number: u32,
    /// Entries on the latest page.
    received: usize,
    /// The latest page's `total`, if it had one.
    total: Option<i64>,
}

impl Progress {
    fn is_done(&self) -> bool {
        if self.received == 0 {
            return true;
        }
        let read_so_far = (self.page_number as usize - 1) * self.page_size as usize + self.received;
        match self.total {
            Some(total) => read_so_far >= total.max(0) as usize,
            // Without a total, a short page is the last one.
            None => self.received < self.page_size as usize,
        }
    }
}

/// How many pages of `page_size` hold `total` entries.
fn pages_for(total: i64, page_size: u32) -> u32 {
    let total = u64::try_from(total).unwrap_or(0);
    u32::try_from(total.div_ceil(u64::from(page_size.max(1)))).unwrap_or(u32::MAX)
}

async fn fetch_page(client: &QuectelClient, page_number: u32) -> Result<DevicePage, ApiError> {
    let query = DeviceListQuery {
        page_number,
        page_size: client.page_size,
    };
    let data = retry(&client.retry, "quectel device list page", || {
        client.call_ok(Endpoint::UserDeviceList, &query)
    })
    .await?;
    match data {
        Some(data) => DevicePage::deserialize(data).map_err(|_| http::unreadable_answer()),
        None => Ok(DevicePage::default()),
    }
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
        tags: Vec::new(),
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
