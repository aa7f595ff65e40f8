//! The deterministic sandbox fleet: the same seed and device count always give the same devices,
//! accounts and catalogues, byte for byte. It uses its own PRNG (splitmix64) so that no dependency
//! update can ever change the fleet.

use serde::{Deserialize, Serialize};

pub use crate::splitmix::SplitMix64;

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const DIGITS: &[u8] = b"0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Vicohome,
    Onenet,
    Quectel,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Vicohome => "vicohome",
            Cloud::Onenet => "onenet",
            Cloud::Quectel => "quectel",
        }
    }
}

/// How a Quectel device reaches the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Mqtt,
    Ble,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Mqtt => "mqtt",
            Transport::Ble => "ble",
        }
    }
}

/// One simulated device, as `GET /_sim/devices` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub cloud: Cloud,
    /// Vicohome serialNumber, OneNET dev_id (decimal), Quectel deviceKey.
    pub id: String,
    pub name: String,
    /// Vicohome modelNo, OneNET chip number (e.g. "10201"), Quectel productName.
    pub model: String,
    /// "Vicohome", OneNET manufacturer number (e.g. "102"), "Quectel".
    pub manufacturer: String,
    pub firmware: String,
    pub newest_firmware: String,
    pub online: bool,
    pub battery: u8,
    /// dBm.
    pub signal: i32,
    /// Quectel productKey or OneNET product id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_key: Option<String>,
    /// Quectel only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    pub is_charging: bool,
    pub ip: String,
    pub mac: String,
}

/// A Vicohome camera model and the firmware package its cameras update to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VicoModel {
    pub model: String,
    pub newest_firmware: String,
    /// Bytes; 8..24 MiB.
    pub package_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnenetProduct {
    pub product_id: String,
    /// base64 of 32 bytes, as the OneNET console shows it.
    pub access_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuectelProduct {
    pub product_key: String,
    pub product_name: String,
    pub transport: Transport,
    pub newest_firmware: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailPassword {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnenetAccounts {
    pub products: Vec<OnenetProduct>,
}

/// `GET /_sim/accounts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accounts {
    pub vicohome: EmailPassword,
    pub quectel: EmailPassword,
    pub onenet: OnenetAccounts,
}

/// OneNET's chip table from the seed: (manufacturer number, chip number).
pub const ONENET_CHIPS: &[(&str, &str)] = &[
    ("101", "10101"), // Lexin ESP32
    ("102", "10201"), // nordic nrf52832
    ("103", "10301"), // Zhaoyi GD32
    ("100", "10001"), // Other
];

const VICO_MODELS: &[&str] = &["CG1", "CG2", "CG6", "B1", "SL1"];
const VICO_PLACES: &[&str] = &[
    "Front Door",
    "Backyard",
    "Garage",
    "Driveway",
    "Porch",
    "Side Gate",
    "Living Room",
    "Nursery",
    "Patio",
    "Shed",
    "Office",
    "Kitchen",
];
const ONENET_KINDS: &[&str] = &["pump", "meter", "valve", "gateway", "sensor", "boiler"];
const QUECTEL_PRODUCTS: &[(&str, Transport)] = &[
    ("Smart Plug", Transport::Mqtt),
    ("Air Quality Sensor", Transport::Mqtt),
    ("Smart Lock", Transport::Ble),
    ("Tracker Tag", Transport::Ble),
];

/// Which cloud device `i` belongs to: 4 in 10 Vicohome, 3 OneNET, 3 Quectel, interleaved so that any
/// prefix of the fleet is mixed.
const CLOUD_PATTERN: [Cloud; 10] = [
    Cloud::Vicohome,
    Cloud::Onenet,
    Cloud::Quectel,
    Cloud::Vicohome,
    Cloud::Onenet,
    Cloud::Quectel,
    Cloud::Vicohome,
    Cloud::Onenet,
    Cloud::Quectel,
    Cloud::Vicohome,
];

// Independent PRNG streams, so that the catalogues do not depend on the device count and device `i`
// is the same in every fleet of the same seed that has it.
const STREAM_CATALOGUE: u64 = 1;
const STREAM_ACCOUNTS: u64 = 2;
const STREAM_DEVICE_BASE: u64 = 1_000;

const MIB: u64 = 1024 * 1024;

/// The whole sandbox: devices plus what the clouds know about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    pub devices: Vec<Device>,
    pub vicohome_models: Vec<VicoModel>,
    pub onenet_products: Vec<OnenetProduct>,
    pub quectel_products: Vec<QuectelProduct>,
    pub accounts: Accounts,
}

/// "major.minor.patch" of a newest firmware one minor above `major.minor`.
fn newest_of(rng: &mut SplitMix64, prefix: &str) -> (String, i64, i64) {
    let major = rng.range(1, 3);
    let minor = rng.range(2, 9);
    let newest = format!("{prefix}{major}.{}.{}", minor + 1, rng.range(0, 5));
    (newest, major, minor)
}

struct Catalogue {
    vico: Vec<(VicoModel, i64, i64)>,
    onenet: Vec<(OnenetProduct, String, i64, i64)>,
    quectel: Vec<(QuectelProduct, i64, i64)>,
}

fn catalogue(seed: u64) -> Catalogue {
    let mut rng = SplitMix64::stream(seed, STREAM_CATALOGUE);
    let vico = VICO_MODELS
        .iter()
        .map(|model| {
            let (newest_firmware, major, minor) = newest_of(&mut rng, "");
            let package_size = rng.range(8 * MIB as i64, 24 * MIB as i64) as u64;
            let entry = VicoModel {
                model: (*model).to_string(),
                newest_firmware,
                package_size,
            };
            (entry, major, minor)
        })
        .collect();
    let mut onenet = Vec::new();
    while onenet.len() < 2 {
        let product_id = rng.range(100_000, 999_999).to_string();
        let access_key = base64_encode(&rng.bytes(32));
        let (newest, major, minor) = newest_of(&mut rng, "V");
        if onenet
            .iter()
            .any(|(p, ..): &(OnenetProduct, String, i64, i64)| p.product_id == product_id)
        {
            continue;
        }
        onenet.push((
            OnenetProduct {
                product_id,
                access_key,
            },
            newest,
            major,
            minor,
        ));
    }
    let mut quectel: Vec<(QuectelProduct, i64, i64)> = Vec::new();
    for (name, transport) in QUECTEL_PRODUCTS {
        let product_key = loop {
            let key = format!("p1{}", rng.chars(LOWER_ALNUM, 4));
            if !quectel.iter().any(|(p, ..)| p.product_key == key) {
                break key;
            }
        };
        let (newest_firmware, major, minor) = newest_of(&mut rng, "");
        quectel.push((
            QuectelProduct {
                product_key,
                product_name: (*name).to_string(),
                transport: *transport,
                newest_firmware,
            },
            major,
            minor,
        ));
    }
    Catalogue {
        vico,
        onenet,
        quectel,
    }
}

fn accounts(seed: u64, onenet_products: &[OnenetProduct]) -> Accounts {
    let mut rng = SplitMix64::stream(seed, STREAM_ACCOUNTS);
    Accounts {
        vicohome: EmailPassword {
            email: "sandbox@vicohome.sim".into(),
            password: format!("vico-{}", rng.chars(LOWER_ALNUM, 10)),
        },
        quectel: EmailPassword {
            email: "sandbox@quectel.sim".into(),
            password: format!("quec-{}", rng.chars(LOWER_ALNUM, 10)),
        },
        onenet: OnenetAccounts {
            products: onenet_products.to_vec(),
        },
    }
}

/// The traits every cloud's devices share.
struct Common {
    online: bool,
    battery: u8,
    signal: i32,
    is_charging: bool,
    ip: String,
    mac: String,
}

fn common(rng: &mut SplitMix64) -> Common {
    let online = !rng.chance(0.08);
    let battery = rng.range(5, 100) as u8;
    let signal = rng.range(-95, -35) as i32;
    let is_charging = rng.chance(0.15);
    let ip = format!("192.168.{}.{}", rng.range(1, 254), rng.range(2, 254));
    let mut mac_bytes = rng.bytes(6);
    // Locally administered unicast, so no real vendor's prefix is used.
    mac_bytes[0] = (mac_bytes[0] & 0xFC) | 0x02;
    let mac = mac_bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    Common {
        online,
        battery,
        signal,
        is_charging,
        ip,
        mac,
    }
}

/// Current firmware: usually one minor below the newest, sometimes (~10 %) already the newest.
fn current_firmware(
    rng: &mut SplitMix64,
    prefix: &str,
    newest: &str,
    major: i64,
    minor: i64,
) -> String {
    if rng.chance(0.10) {
        newest.to_string()
    } else {
        format!("{prefix}{major}.{minor}.{}", rng.range(0, 20))
    }
}

/// A 15-digit IMEI-like number with a valid Luhn check digit.
fn imei(rng: &mut SplitMix64) -> String {
    let body = format!("86{}", rng.chars(DIGITS, 12));
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

impl Fleet {
    pub fn generate(seed: u64, count: usize) -> Self {
        let catalogue = catalogue(seed);
        let mut used_ids = std::collections::HashSet::new();
        let mut per_cloud = [0usize; 3];
        let mut devices = Vec::with_capacity(count);
        for i in 0..count {
            let mut rng = SplitMix64::stream(seed, STREAM_DEVICE_BASE + i as u64);
            let cloud = CLOUD_PATTERN[i % CLOUD_PATTERN.len()];
            let slot = match cloud {
                Cloud::Vicohome => 0,
                Cloud::Onenet => 1,
                Cloud::Quectel => 2,
            };
            let nth = per_cloud[slot];
            per_cloud[slot] += 1;
            let c = common(&mut rng);
            let device = match cloud {
                Cloud::Vicohome => {
                    let (model, major, minor) = rng.pick(&catalogue.vico);
                    let id = unique(&mut used_ids, || {
                        format!("VC{}", rng.chars(UPPER_ALNUM, 10))
                    });
                    let place = *rng.pick(VICO_PLACES);
                    Device {
                        cloud,
                        name: format!("{place} {}", nth + 1),
                        model: model.model.clone(),
                        manufacturer: "Vicohome".into(),
                        firmware: current_firmware(
                            &mut rng,
                            "",
                            &model.newest_firmware,
                            *major,
                            *minor,
                        ),
                        newest_firmware: model.newest_firmware.clone(),
                        online: c.online,
                        battery: c.battery,
                        signal: c.signal,
                        product_key: None,
                        transport: None,
                        is_charging: c.is_charging,
                        ip: c.ip,
                        mac: c.mac,
                        id,
                    }
                }
                Cloud::Onenet => {
                    let (product, newest, major, minor) =
                        &catalogue.onenet[nth % catalogue.onenet.len()];
                    let (manuf, chip) = *rng.pick(ONENET_CHIPS);
                    let id = unique(&mut used_ids, || {
                        rng.range(100_000_000, 999_999_999).to_string()
                    });
                    let kind = *rng.pick(ONENET_KINDS);
                    Device {
                        cloud,
                        name: format!("{kind}-{:03}", nth + 1),
                        model: chip.into(),
                        manufacturer: manuf.into(),
                        firmware: current_firmware(&mut rng, "V", newest, *major, *minor),
                        newest_firmware: newest.clone(),
                        online: c.online,
                        battery: c.battery,
                        signal: c.signal,
                        product_key: Some(product.product_id.clone()),
                        transport: None,
                        is_charging: c.is_charging,
                        ip: c.ip,
                        mac: c.mac,
                        id,
                    }
                }
                Cloud::Quectel => {
                    let wanted = if nth % 3 == 2 {
                        Transport::Ble
                    } else {
                        Transport::Mqtt
                    };
                    let choices: Vec<&(QuectelProduct, i64, i64)> = catalogue
                        .quectel
                        .iter()
                        .filter(|(p, ..)| p.transport == wanted)
                        .collect();
                    let (product, major, minor) = *rng.pick(&choices);
                    let id = unique(&mut used_ids, || imei(&mut rng));
                    Device {
                        cloud,
                        name: format!("{} {}", product.product_name, nth + 1),
                        model: product.product_name.clone(),
                        manufacturer: "Quectel".into(),
                        firmware: current_firmware(
                            &mut rng,
                            "",
                            &product.newest_firmware,
                            *major,
                            *minor,
                        ),
                        newest_firmware: product.newest_firmware.clone(),
                        online: c.online,
                        battery: c.battery,
                        signal: c.signal,
                        product_key: Some(product.product_key.clone()),
                        transport: Some(product.transport),
                        is_charging: c.is_charging,
                        ip: c.ip,
                        mac: c.mac,
                        id,
                    }
                }
            };
            devices.push(device);
        }
        let onenet_products: Vec<OnenetProduct> =
            catalogue.onenet.iter().map(|(p, ..)| p.clone()).collect();
        Fleet {
            devices,
            vicohome_models: catalogue.vico.into_iter().map(|(m, ..)| m).collect(),
            quectel_products: catalogue.quectel.into_iter().map(|(p, ..)| p).collect(),
            accounts: accounts(seed, &onenet_products),
            onenet_products,
        }
    }

    pub fn vico_model(&self, model: &str) -> Option<&VicoModel> {
        self.vicohome_models.iter().find(|m| m.model == model)
    }

    pub fn onenet_product(&self, product_id: &str) -> Option<&OnenetProduct> {
        self.onenet_products
            .iter()
            .find(|p| p.product_id == product_id)
    }

    pub fn quectel_product(&self, product_key: &str) -> Option<&QuectelProduct> {
        self.quectel_products
            .iter()
            .find(|p| p.product_key == product_key)
    }
}

/// Draws ids until one is new; deterministic because it only depends on earlier devices.
fn unique(
    used: &mut std::collections::HashSet<String>,
    mut draw: impl FnMut() -> String,
) -> String {
    loop {
        let id = draw();
        if used.insert(id.clone()) {
            return id;
        }
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_shapes() {
        let fleet = Fleet::generate(42, 1000);
        let count = |c: Cloud| fleet.devices.iter().filter(|d| d.cloud == c).count();
        assert_eq!(count(Cloud::Vicohome), 400);
        assert_eq!(count(Cloud::Onenet), 300);
        assert_eq!(count(Cloud::Quectel), 300);
        let ble = fleet
            .devices
            .iter()
            .filter(|d| d.transport == Some(Transport::Ble))
            .count();
        assert_eq!(ble, 100);
        let offline = fleet.devices.iter().filter(|d| !d.online).count();
        assert!((40..=130).contains(&offline), "offline {offline}");
        assert!(fleet.devices.iter().all(|d| (5..=100).contains(&d.battery)));
        assert!(fleet.devices.iter().any(|d| d.battery < 20));
        let ids: std::collections::HashSet<_> = fleet.devices.iter().map(|d| &d.id).collect();
        assert_eq!(ids.len(), 1000);
        for d in &fleet.devices {
            match d.cloud {
                Cloud::Vicohome => {
                    assert!(d.id.starts_with("VC") && d.id.len() == 12, "{}", d.id);
                    assert!(d.id[2..].bytes().all(|b| UPPER_ALNUM.contains(&b)));
                }
                Cloud::Onenet => {
                    assert_eq!(d.id.len(), 9);
                    assert!(d.id.bytes().all(|b| b.is_ascii_digit()));
                    assert!(ONENET_CHIPS.contains(&(d.manufacturer.as_str(), d.model.as_str())));
                }
                Cloud::Quectel => {
                    assert_eq!(d.id.len(), 15);
                    assert!(d
                        .product_key
                        .as_deref()
                        .is_some_and(|k| k.starts_with("p1") && k.len() == 6));
                }
            }
        }
        let newest = fleet
            .devices
            .iter()
            .filter(|d| d.firmware == d.newest_firmware)
            .count();
        assert!((50..=160).contains(&newest), "already newest {newest}");
        for m in &fleet.vicohome_models {
            assert!((8 * MIB..=24 * MIB).contains(&m.package_size));
        }
        assert_eq!(fleet.onenet_products.len(), 2);
    }

    #[test]
    fn a_fleet_is_a_prefix_of_a_larger_one() {
        let small = Fleet::generate(7, 30);
        let large = Fleet::generate(7, 300);
        assert_eq!(small.devices[..], large.devices[..30]);
        assert_eq!(small.accounts, large.accounts);
    }

    #[test]
    fn imei_has_a_luhn_digit() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..50 {
            let imei = imei(&mut rng);
            let sum: u32 = imei
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, b)| {
                    let d = u32::from(b - b'0');
                    if i % 2 == 1 {
                        (d * 2) / 10 + (d * 2) % 10
                    } else {
                        d
                    }
                })
                .sum();
            assert_eq!(sum % 10, 0, "{imei}");
        }
    }
}
