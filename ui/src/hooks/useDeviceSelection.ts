import { useCallback, useMemo, useState } from "react";

import type { Device } from "../bindings/Device";

/** How a device is known across pages and refreshes: ids are only unique within an account. */
export function deviceKey(device: Pick<Device, "accountId" | "id">): string {
  return `${device.accountId}:${device.id}`;
}

/**
 * The devices ticked in the table. Rows come and go as pages load, so the selection keeps the devices
 * themselves (the bulk update needs their account and cloud).
 */
export function useDeviceSelection() {
  const [selected, setSelected] = useState<ReadonlyMap<string, Device>>(() => new Map());

  const toggle = useCallback((device: Device) => {
    setSelected((prev) => {
      const next = new Map(prev);
      const key = deviceKey(device);
      if (next.has(key)) next.delete(key);
      else next.set(key, device);
      return next;
    });
  }, []);

  const setMany = useCallback((devices: readonly Device[], on: boolean) => {
    setSelected((prev) => {
      const next = new Map(prev);
      for (const device of devices) {
        if (on) next.set(deviceKey(device), device);
        else next.delete(deviceKey(device));
      }
      return next;
    });
  }, []);

  const clear = useCallback(() => setSelected(new Map()), []);
  const isSelected = useCallback((device: Device) => selected.has(deviceKey(device)), [selected]);
  const devices = useMemo(() => Array.from(selected.values()), [selected]);

  return { devices, count: selected.size, isSelected, toggle, setMany, clear };
}

export type DeviceSelection = ReturnType<typeof useDeviceSelection>;
