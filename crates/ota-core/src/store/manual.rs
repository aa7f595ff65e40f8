//! Devices added by hand or from a CSV file (OneNET has no device listing).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
use crate::db::{params, SqlExt};
use crate::error::{ApiError, CoreResult};
use crate::model::{now_ms, Cloud, Device};

/// One device as a user describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ManualDevice {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub manufacturer: Option<String>,
    #[serde(default)]
    pub firmware: String,
}

impl ManualDevice {
    fn to_device(&self, account_id: i64, cloud: Cloud) -> Device {
        Device {
            account_id,
            cloud,
            id: self.id.clone(),
            product_key: None,
            name: if self.name.is_empty() {
                self.id.clone()
            } else {
                self.name.clone()
            },
            model: self.model.clone(),
            manufacturer: self.manufacturer.clone(),
            transport: None,
            firmware: self.firmware.clone(),
            newest_firmware: None,
            // The device-side API reports no online state; a device a technician added is assumed reachable
            // until an operation on it says otherwise.
            online: true,
            battery: None,
            signal: None,
            refreshed_at: 0,
            tags: Vec::new(),
        }
    }
}

/// Parses `dev_id,name,manufacturer,model,firmware` lines (a header line and blank lines are skipped;
/// only the id is required). All or nothing: any bad line rejects the whole file, naming the lines.
pub fn parse_device_csv(text: &str) -> Result<Vec<ManualDevice>, ApiError> {
    let mut devices = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(',')
            .map(|f| f.trim().trim_matches('"'))
            .collect();
        let id = fields.first().copied().unwrap_or_default();
        if line_no == 1
            && !id.chars().all(|c| c.is_ascii_digit())
            && id.to_ascii_lowercase().contains("id")
        {
            continue; // header
        }
        if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_digit()) {
            problems.push(format!(
                "line {line_no}: “{id}” is not a OneNET device id (digits only)"
            ));
            continue;
        }
        if !seen.insert(id.to_string()) {
            problems.push(format!("line {line_no}: device {id} is listed twice"));
            continue;
        }
        let field = |i: usize| fields.get(i).map(|s| s.to_string()).unwrap_or_default();
        let manufacturer = field(2);
        devices.push(ManualDevice {
            id: id.to_string(),
            name: field(1),
            manufacturer: (!manufacturer.is_empty()).then_some(manufacturer),
            model: field(3),
            firmware: field(4),
        });
    }
    if !problems.is_empty() {
        let shown: Vec<String> = problems.iter().take(5).cloned().collect();
        let more = problems.len().saturating_sub(shown.len());
        let mut message = format!("Nothing was imported: {}", shown.join("; "));
        if more > 0 {
            message.push_str(&format!("; and {more} more"));
        }
        return Err(ApiError::validation(message).with_hint(
            "Each line is: dev_id,name,manufacturer,model,firmware — only dev_id is required.",
        ));
    }
    if devices.is_empty() {
        return Err(ApiError::validation("The file lists no devices."));
    }
    Ok(devices)
}

impl Store {
    /// Adds (or updates) devices by hand and shows them in the cached fleet at once, in one transaction.
    pub fn add_manual_devices(
        &self,
        account_id: i64,
        cloud: Cloud,
        devices: &[ManualDevice],
    ) -> CoreResult<usize> {
        let now = now_ms();
        self.write(|tx| {
            for d in devices {
                let shown = d.to_device(account_id, cloud);
                tx.execute("INSERT INTO manual_devices (account_id, device_id, name, model, manufacturer, firmware, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(account_id, device_id) DO UPDATE SET name = excluded.name, model = excluded.model,
                    manufacturer = excluded.manufacturer, firmware = excluded.firmware", params![
                    account_id,
                    d.id,
                    d.name,
                    d.model,
                    d.manufacturer,
                    d.firmware,
                    now
                ])?;
                tx.execute("INSERT INTO devices (account_id, device_id, cloud, name, model, manufacturer, firmware, online,
                    refreshed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8)
                 ON CONFLICT(account_id, device_id) DO UPDATE SET name = excluded.name, model = excluded.model,
                    manufacturer = excluded.manufacturer, firmware = excluded.firmware", params![
                    account_id,
                    shown.id,
                    cloud.as_str(),
                    shown.name,
                    shown.model,
                    shown.manufacturer,
                    shown.firmware,
                    now
                ])?;
            }
            super::cohorts::bump_generation(tx)?;
            Ok(devices.len())
        })
    }

    /// The hand-added devices of an account, as fleet rows.
    pub fn manual_devices(&self, account_id: i64, cloud: Cloud) -> CoreResult<Vec<Device>> {
        self.read(|conn| {
            let rows = conn.query_map(
                "SELECT device_id, name, model, manufacturer, firmware FROM manual_devices
                 WHERE account_id = ?1 ORDER BY device_id",
                params![account_id],
                |row| {
                    Ok(ManualDevice {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        model: row.get(2)?,
                        manufacturer: row.get(3)?,
                        firmware: row.get(4)?,
                    })
                },
            )?;
            Ok(rows
                .into_iter()
                .map(|d| d.to_device(account_id, cloud))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeviceQuery;
    use crate::store::test_store;

    #[test]
    fn csv_with_header_and_optional_columns() {
        let devices = parse_device_csv(
            "dev_id,name,manufacturer,model,firmware\n527776559,Meter 1,102,10201,V1\n\n527776560\n",
        )
        .unwrap();
        assert_eq!(devices.len(), 2);
        assert_eq!(devices[0].name, "Meter 1");
        assert_eq!(devices[0].manufacturer.as_deref(), Some("102"));
        assert_eq!(devices[1].id, "527776560");
        assert_eq!(devices[1].firmware, "");
    }

    #[test]
    fn a_bad_line_rejects_the_whole_file() {
        let err = parse_device_csv("527776559,ok\nABC,bad\n527776559,dup\n").unwrap_err();
        assert!(err.message.contains("line 2"), "{}", err.message);
        assert!(err.message.contains("line 3"), "{}", err.message);
        assert!(parse_device_csv("\n\n").is_err());
    }

    #[test]
    fn added_devices_show_in_the_fleet_at_once() {
        let (_dir, store) = test_store();
        let acc = store
            .upsert_sandbox_account(Cloud::Onenet, "x", "http://127.0.0.1:1", None)
            .unwrap();
        let devices = parse_device_csv("527776559,Meter,102,10201,V1").unwrap();
        store
            .add_manual_devices(acc.id, Cloud::Onenet, &devices)
            .unwrap();
        let page = store.query_devices(&DeviceQuery::default()).unwrap();
        assert_eq!(page.rows[0].id, "527776559");
        assert_eq!(
            store.manual_devices(acc.id, Cloud::Onenet).unwrap().len(),
            1
        );
    }
}
