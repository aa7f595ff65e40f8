import type { Device } from "../bindings/Device";

/**
 * The device already runs the newest firmware its cloud offers. Unknown (the cloud does not say) is not
 * up to date: the update is still offered and the cloud answers for itself.
 */
export function isOnNewestFirmware(device: Pick<Device, "firmware" | "newestFirmware">): boolean {
  return device.newestFirmware !== null && device.newestFirmware.trim() === device.firmware.trim();
}
