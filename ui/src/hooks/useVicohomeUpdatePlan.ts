import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { toApiError, vicohomeUpdatePlan } from "../api";
import type { CameraUpdatePlan } from "../bindings/CameraUpdatePlan";
import type { Device } from "../bindings/Device";
import type { DeviceKey } from "../bindings/DeviceKey";
import { queryKeys } from "../queryKeys";
import { deviceKey } from "./useDeviceSelection";

export function toDeviceKey(device: Pick<Device, "accountId" | "id">): DeviceKey {
  return { accountId: device.accountId, deviceId: device.id };
}

/** The same string as deviceKey() of the device, for a key Rust answered with. */
export function keyOf(key: DeviceKey): string {
  return deviceKey({ accountId: key.accountId, id: key.deviceId });
}

/**
 * What updating the selected devices would do, as Rust decides it: which cameras start and why each other
 * device is left out. `current` is false while the answer is for an earlier selection (it is still shown,
 * so the bar does not flicker, but nothing may be started from it).
 */
export function useVicohomeUpdatePlan(selected: readonly Device[]) {
  // The firmware fields are in the key only so a device the browser sees change is asked about again at
  // once; Rust decides from its own store.
  const id = selected.map((d) => `${deviceKey(d)}@${d.firmware}>${d.newestFirmware ?? ""}`).join("|");
  const query = useQuery({
    queryKey: queryKeys.vicohomeUpdatePlan(id),
    queryFn: () => vicohomeUpdatePlan(selected.map(toDeviceKey)),
    enabled: selected.length > 0,
    placeholderData: keepPreviousData,
  });
  const plan: CameraUpdatePlan | null = selected.length > 0 ? (query.data ?? null) : null;
  return {
    plan,
    current: plan !== null && query.isSuccess && !query.isPlaceholderData,
    error: query.error ? toApiError(query.error) : null,
  };
}
