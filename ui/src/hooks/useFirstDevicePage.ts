import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { listDevices } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { DevicePage } from "../bindings/DevicePage";
import { queryKeys, type DeviceFilter } from "../queryKeys";

export const PAGE_SIZE = 100;
export const PAGE_STALE_MS = 30_000;
/** Pages scrolled away from are dropped soon: the window never holds the whole fleet. */
export const PAGE_GC_MS = 60_000;

export function fetchDevicePage(filter: DeviceFilter, page: number): Promise<DevicePage> {
  return listDevices({ ...filter, offset: page * PAGE_SIZE, limit: PAGE_SIZE });
}

/** Page 0 of a filter: its rows and the counts. While a new filter loads, the previous answer stays. */
export function useFirstDevicePage(filter: DeviceFilter) {
  return useQuery<DevicePage, ApiError>({
    queryKey: queryKeys.devicePage(filter, 0),
    queryFn: () => fetchDevicePage(filter, 0),
    placeholderData: keepPreviousData,
    staleTime: PAGE_STALE_MS,
    gcTime: PAGE_GC_MS,
  });
}
