// Test data shaped exactly like the generated bindings.

import type { Device } from "../bindings/Device";
import type { DevicePage } from "../bindings/DevicePage";
import type { DeviceQuery } from "../bindings/DeviceQuery";
import type { FleetFreshness } from "../bindings/FleetFreshness";
import type { JobView } from "../bindings/JobView";

export function makeDevice(index: number, overrides: Partial<Device> = {}): Device {
  return {
    accountId: 1,
    cloud: "vicohome",
    id: `SN${String(index).padStart(6, "0")}`,
    productKey: null,
    name: `Camera ${index}`,
    model: "CG6",
    manufacturer: "Vicoo",
    transport: null,
    firmware: "1.2.0",
    newestFirmware: null,
    online: index % 2 === 0,
    battery: 80,
    signal: -60,
    refreshedAt: 1_700_000_000_000,
    tags: [],
    ...overrides,
  };
}

/**
 * A fleet of `total` devices answering list_devices like the store would (search on name/id/model; a tag
 * filter: every fifth device is tagged "pilot"). With
 * `countCap`, a filtered list counts its matches only up to the cap and then says "at least", as the store
 * does past its own cap.
 */
export function fakeFleet(total: number, { countCap }: { countCap?: number } = {}) {
  const devices = Array.from({ length: total }, (_, i) => makeDevice(i, i % 5 === 0 ? { tags: ["pilot"] } : {}));
  return (query: DeviceQuery): DevicePage => {
    const needle = query.search.toLowerCase();
    const matching = devices.filter(
      (d) =>
        (!needle || `${d.id} ${d.name} ${d.model}`.toLowerCase().includes(needle)) &&
        (query.cloud === undefined || d.cloud === query.cloud) &&
        (query.status === "all" || d.online === (query.status === "online")) &&
        (query.tag === undefined || query.tag === null || d.tags.includes(query.tag)),
    );
    const filtered = needle !== "" || query.cloud !== undefined || query.status !== "all" || typeof query.tag === "string";
    const capped = filtered && countCap !== undefined && matching.length > countCap;
    return {
      matching: capped ? countCap : matching.length,
      matchingAtLeast: capped,
      total: devices.length,
      offset: query.offset,
      rows: matching.slice(query.offset, query.offset + query.limit),
    };
  };
}

export const LIVE: FleetFreshness = {
  live: true,
  oldestRefresh: Date.now(),
  accounts: [],
};

export function makeJob(overrides: Partial<JobView> = {}): JobView {
  return {
    id: 1,
    accountId: 1,
    cloud: "vicohome",
    deviceId: "SN000001",
    state: "running",
    phase: "downloading",
    vendorState: 1,
    percent: 37,
    transferred: 6_606_028,
    total: 15_728_640,
    fromVersion: "1.2.0",
    toVersion: "1.3.0",
    error: null,
    startedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_010_000,
    finishedAt: null,
    ...overrides,
  };
}
