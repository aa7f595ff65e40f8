import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";

import { startVicohomeUpdate } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Device } from "../bindings/Device";
import type { JobView } from "../bindings/JobView";
import { notifyJobFinished } from "../lib/notify";
import { queryKeys } from "../queryKeys";

function isActive(job: JobView): boolean {
  return job.state === "starting" || job.state === "running";
}

/** Starts a camera's OTA and follows it over its progress channel. */
export function useVicohomeUpdate(device: Device) {
  const queryClient = useQueryClient();
  const [job, setJob] = useState<JobView | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [starting, setStarting] = useState(false);
  const notified = useRef(new Set<number>());

  const accept = useCallback(
    (next: JobView) => {
      // Channel updates and the command's own answer can cross: keep the newest.
      setJob((prev) => (prev && prev.id === next.id && prev.updatedAt > next.updatedAt ? prev : next));
      if (!isActive(next) && !notified.current.has(next.id)) {
        notified.current.add(next.id);
        void queryClient.invalidateQueries({ queryKey: queryKeys.jobs });
        void queryClient.invalidateQueries({ queryKey: queryKeys.devices });
        void notifyJobFinished(next, device.name);
      }
    },
    [queryClient, device.name],
  );

  const start = useCallback(async () => {
    setError(null);
    setStarting(true);
    try {
      const first = await startVicohomeUpdate(device.accountId, device.id, accept);
      accept(first);
      void queryClient.invalidateQueries({ queryKey: queryKeys.jobs });
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setStarting(false);
    }
  }, [accept, device.accountId, device.id, queryClient]);

  return { job, error, starting, running: job !== null && isActive(job), start };
}
