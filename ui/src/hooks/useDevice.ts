import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";

import { listDevices } from "../api";
import type { Device } from "../bindings/Device";
import type { DeviceKey } from "../bindings/DeviceKey";
import type { DevicePage } from "../bindings/DevicePage";
import { queryKeys } from "../queryKeys";

/** Rows asked per page while looking a device up by its id (a search may match other devices too). */
const LOOKUP_PAGE = 100;
/** Enough for any real id: a search by a whole serial matches that device and a handful of others. */
const LOOKUP_MAX_PAGES = 5;

function isDevicePage(data: unknown): data is DevicePage {
  return typeof data === "object" && data !== null && Array.isArray((data as DevicePage).rows);
}

function matches(key: DeviceKey, device: Device): boolean {
  return device.accountId === key.accountId && device.id === key.deviceId;
}

/** The device as the newest cached page of the device list has it, with when that page was read. */
export function findInDevicePages(
  queryClient: QueryClient,
  key: DeviceKey,
): { device: Device; updatedAt: number } | undefined {
  let found: { device: Device; updatedAt: number } | undefined;
  for (const query of queryClient.getQueryCache().findAll({ queryKey: queryKeys.devices })) {
    const data: unknown = query.state.data;
    if (!isDevicePage(data)) continue;
    const device = data.rows.find((row) => matches(key, row));
    if (device && (!found || query.state.dataUpdatedAt > found.updatedAt)) {
      found = { device, updatedAt: query.state.dataUpdatedAt };
    }
  }
  return found;
}

/** Reads one device from the store by its key; null when it is no longer there. */
export async function fetchDeviceByKey(key: DeviceKey): Promise<Device | null> {
  for (let page = 0; page < LOOKUP_MAX_PAGES; page += 1) {
    const answer = await listDevices({
      search: key.deviceId,
      status: "all",
      sort: "name",
      descending: false,
      offset: page * LOOKUP_PAGE,
      limit: LOOKUP_PAGE,
    });
    const device = answer.rows.find((row) => matches(key, row));
    if (device) return device;
    if (answer.rows.length < LOOKUP_PAGE) break;
    if (!answer.matchingAtLeast && (page + 1) * LOOKUP_PAGE >= answer.matching) break;
  }
  return null;
}

/**
 * The device with this key as the device data has it now. Nothing is copied when a row is opened: the
 * query starts from the list page the row came from and sits under "devices", so every "devices changed"
 * notice (a finished update, a refresh) re-reads it and an open panel shows the firmware the update left.
 * `device` is null while unknown and once the device is gone (its account removed).
 */
export function useDevice(key: DeviceKey | null): { device: Device | null; pending: boolean } {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: queryKeys.device(key?.accountId ?? 0, key?.deviceId ?? ""),
    queryFn: () => (key ? fetchDeviceByKey(key) : Promise.resolve(null)),
    enabled: key !== null,
    initialData: () => (key ? findInDevicePages(queryClient, key)?.device : undefined),
    initialDataUpdatedAt: () => (key ? findInDevicePages(queryClient, key)?.updatedAt : undefined),
  });
  if (!key) return { device: null, pending: false };
  return { device: query.data ?? null, pending: query.isPending };
}
