import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";

import { startVicohomeUpdates, toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { CameraUpdateEvent } from "../bindings/CameraUpdateEvent";
import type { Device } from "../bindings/Device";
import type { JobView } from "../bindings/JobView";
import type { LeftOutReason } from "../bindings/LeftOutReason";
import { queryKeys } from "../queryKeys";
import { deviceKey } from "./useDeviceSelection";
import { keyOf, toDeviceKey } from "./useVicohomeUpdatePlan";

export type BulkUpdateResult =
  | { key: string; device: Device; status: "pending" | "starting" }
  | { key: string; device: Device; status: "started"; job: JobView }
  | { key: string; device: Device; status: "refused"; error: ApiError }
  | { key: string; device: Device; status: "leftOut"; reason: LeftOutReason };

function isActive(job: JobView): boolean {
  return job.state === "starting" || job.state === "running";
}

/**
 * Starts the firmware update of several Vicohome cameras. Rust runs it (each camera once, a few at a time,
 * one refusal never stopping the others) and tells what happens to each; this keeps one result per camera.
 */
export function useBulkVicohomeUpdate() {
  const queryClient = useQueryClient();
  const [results, setResults] = useState<BulkUpdateResult[]>([]);
  const [running, setRunning] = useState(false);
  // Events of an earlier run (its jobs keep reporting) must not touch a later run's results.
  const runId = useRef(0);

  const start = useCallback(
    async (cameras: readonly Device[]) => {
      const run = ++runId.current;
      const patch = (key: string, update: (prev: BulkUpdateResult) => BulkUpdateResult) => {
        if (runId.current !== run) return;
        setResults((prev) => prev.map((r) => (r.key === key ? update(r) : r)));
      };
      const accept = (key: string, job: JobView) => {
        // Updates of one job can arrive out of order only across a restart of its stream: keep the newest.
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
      const settle = () => {
        if (runId.current !== run) return;
        setRunning(false);
        void queryClient.invalidateQueries({ queryKey: queryKeys.jobs });
      };
      const onEvent = (event: CameraUpdateEvent) => {
        switch (event.kind) {
          case "left_out":
            patch(keyOf(event.camera), (prev) => ({ key: prev.key, device: prev.device, status: "leftOut", reason: event.reason }));
            break;
          case "starting":
            patch(keyOf(event.camera), (prev) => ({ key: prev.key, device: prev.device, status: "starting" }));
            break;
          case "started":
          case "progress":
            accept(keyOf(event.camera), event.job);
            break;
          case "refused":
            patch(keyOf(event.camera), (prev) => ({ key: prev.key, device: prev.device, status: "refused", error: event.error }));
            break;
          case "settled":
            settle();
            break;
        }
      };

      setRunning(true);
      setResults(cameras.map((device) => ({ key: deviceKey(device), device, status: "pending" })));
      try {
        await startVicohomeUpdates(cameras.map(toDeviceKey), onEvent);
      } catch (err) {
        // Nothing was started: every camera shows why.
        const error = toApiError(err);
        for (const device of cameras) {
          patch(deviceKey(device), (prev) => ({ key: prev.key, device: prev.device, status: "refused", error }));
        }
        settle();
      }
    },
    [queryClient],
  );

  const dismiss = useCallback(() => setResults([]), []);

  return { results, running, start, dismiss };
}
