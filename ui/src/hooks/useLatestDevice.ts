import { useQuery } from "@tanstack/react-query";

import { listDevices } from "../api";
import type { Device } from "../bindings/Device";
import { queryKeys } from "../queryKeys";

/**
 * The newest cached record of an open device. The key sits under "devices", so every "devices changed"
 * notice re-reads it: a panel opened before an update shows the firmware the update left.
 */
export function useLatestDevice(device: Device | null): Device | null {
  const latest = useQuery({
    queryKey: [...queryKeys.devices, "one", device?.accountId ?? 0, device?.cloud ?? "", device?.id ?? ""],
    queryFn: async () => {
      if (!device) return null;
      const page = await listDevices({
        search: device.id,
        cloud: device.cloud,
        status: "all",
        sort: "name",
        descending: false,
        offset: 0,
        limit: 50,
      });
      return page.rows.find((d) => d.accountId === device.accountId && d.id === device.id) ?? null;
    },
    enabled: device !== null,
  });
  if (!device) return null;
  return latest.data ?? device;
}
