//! The sandbox's default OneNET tasks, so a user can check, download and report without any set-up:
//! at start every OneNET device whose `firmware` is not its `newest_firmware` gets a pending
//! application (type 2) task with a full package to `newest_firmware`. The package (size 256 KiB up to
//! 2 MiB, bytes, md5) depends only on the seed, the product and the target, so every device of a
//! product shares one file and the same seed gives the same packages. Download tokens are random.

use super::tasks::{TaskSpec, APPLICATION, FULL};
use crate::fleet::{Cloud, Device};
use crate::world::World;

/// The seed's example conditions: signal ≥ 10, power ≥ 50 %, no retries.
pub const SIGNAL: i64 = 10;
pub const POWER: i64 = 50;

/// 256 KiB ..< 2 MiB, in whole KiB, from the seed, product and target.
pub fn package_size(seed: u64, product_id: &str, target: &str) -> u64 {
    let spread = target
        .bytes()
        .chain(product_id.bytes())
        .fold(seed, |h, b| h.rotate_left(7) ^ u64::from(b))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    256 * 1024 + ((spread >> 32) % (7 * 256)) * 1024
}

pub(crate) fn seed_default_tasks(world: &mut World, seed: u64) {
    let now = world.now_ms();
    let behind: Vec<Device> = world
        .fleet
        .devices
        .iter()
        .filter(|d| d.cloud == Cloud::Onenet && d.firmware != d.newest_firmware)
        .cloned()
        .collect();
    for device in behind {
        let Some(product_id) = device.product_key.clone() else {
            continue;
        };
        let target = device.newest_firmware.clone();
        let size = package_size(seed, &product_id, &target);
        let package = world
            .onenet
            .shared_package(seed, &product_id, &target, size);
        let id = world.onenet.next_id();
        let token = format!("ota_{}", world.mint.mint(20));
        let spec = TaskSpec {
            dev_id: device.id,
            product_id,
            target,
            task_type: APPLICATION,
            package_kind: FULL,
            from_version: None,
            manuf: device.manufacturer,
            model: device.model,
            signal: SIGNAL,
            power: POWER,
            retry: 0,
            interval: 0,
        };
        // Each device of the fleet once, into a world with no task yet.
        world.onenet.add_first(id, spec, package, token, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_stay_in_range() {
        for seed in 0..200 {
            let size = package_size(seed, "700001", &format!("V1.{seed}.0"));
            assert!((256 * 1024..2 * 1024 * 1024).contains(&size), "{size}");
            assert_eq!(size % 1024, 0);
        }
        assert_eq!(
            package_size(42, "700001", "V2.3.1"),
            package_size(42, "700001", "V2.3.1")
        );
    }
}
