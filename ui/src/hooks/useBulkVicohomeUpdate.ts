import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { startVicohomeUpdate, toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Device } from "../bindings/Device";
import type { JobView } from "../bindings/JobView";
import { runLimited } from "../lib/pool";
import { queryKeys } from "../queryKeys";
import { deviceKey } from "./useDeviceSelection";

/** Cameras asked at once; the rest wait their turn so the cloud is not flooded. */
export const BULK_UPDATE_CONCURRENCY = 4;

export type BulkUpdateResult =
  | { key: string; device: Device; status: "pending" | "starting" }
  | { key: string; device: Device; status: "started"; job: JobView }
  | { key: string; device: Device; status: "refused"; error: ApiError };

function isActive(job: JobView): boolean {
  return job.state === "starting" || job.state === "running";
}

/** Starts the firmware update of several Vicohome cameras; one refusal never stops the others. */
export function useBulkVicohomeUpdate() {
  const queryClient = useQueryClient();
  const [results, setResults] = useState<BulkUpdateResult[]>([]);
  const [running, setRunning] = useState(false);

  const start = useCallback(
    async (cameras: readonly Device[]) => {
      const patch = (key: string, update: (prev: BulkUpdateResult) => BulkUpdateResult) =>
        setResults((prev) => prev.map((r) => (r.key === key ? update(r) : r)));
      const accept = (key: string, job: JobView) => {
        // Channel updates and the command's own answer can cross: keep the newest.
        patch(key, (prev) =>
          prev.status === "started" && prev.job.id === job.id && prev.job.updatedAt > job.updatedAt
            ? prev
            : { key, device: prev.device, status: "started", job },
        );
        if (!isActive(job)) {
          void queryClient.invalidateQueries({ queryKey: queryKeys.jobs });
          void queryClient.invalidateQueries({ queryKey: queryKeys.devices });
        }
      };

      setRunning(true);
      setResults(cameras.map((device) => ({ key: deviceKey(device), device, status: "pending" })));
      await runLimited(cameras, BULK_UPDATE_CONCURRENCY, async (device) => {
        const key = deviceKey(device);
        patch(key, (prev) => ({ key, device: prev.device, status: "starting" }));
        try {
          const first = await startVicohomeUpdate(device.accountId, device.id, (job) => accept(key, job));
          accept(key, first);
        } catch (err) {
          patch(key, (prev) => ({ key, device: prev.device, status: "refused", error: toApiError(err) }));
        }
      });
      setRunning(false);
      void queryClient.invalidateQueries({ queryKey: queryKeys.jobs });
    },
    [queryClient],
  );

  const dismiss = useCallback(() => setResults([]), []);

  return { results, running, start, dismiss };
}
