import { useIsMutating, useMutation, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";

import { refreshFleet } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { FleetFreshness } from "../bindings/FleetFreshness";
import { queryKeys } from "../queryKeys";

const REFRESH_KEY = ["refreshFleet"] as const;
/** How often the window asks for a fresh fleet while it is open. */
export const AUTO_REFRESH_MS = 60_000;
/** How long the first refresh waits for the cached list to paint before going anyway. */
const FIRST_PAINT_GRACE_MS = 1_500;

/** Asks the clouds for the fleet now; the header's button and the timer share it. */
export function useFleetRefresh() {
  const queryClient = useQueryClient();
  const mutation = useMutation<FleetFreshness, ApiError, void>({
    mutationKey: REFRESH_KEY,
    mutationFn: () => refreshFleet(),
    onSuccess: (freshness) => {
      queryClient.setQueryData(queryKeys.freshness, freshness);
    },
    onSettled: () => invalidateFleet(queryClient),
  });
  const busy = useIsMutating({ mutationKey: REFRESH_KEY }) > 0;
  const { mutate } = mutation;
  const refresh = useCallback(() => {
    // One refresh at a time: a click during the timer's refresh just waits for it.
    if (queryClient.isMutating({ mutationKey: REFRESH_KEY }) > 0) return;
    mutate();
  }, [mutate, queryClient]);
  return { refresh, busy, error: mutation.error, reset: mutation.reset };
}

function invalidateFleet(queryClient: QueryClient): Promise<unknown> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: queryKeys.devices }),
    queryClient.invalidateQueries({ queryKey: queryKeys.freshness }),
  ]);
}

/**
 * Paints the cached list first, then refreshes once, then every minute. The first refresh starts as soon
 * as a device page has come from the cache (or after a short grace period when no list is showing).
 */
export function useAutoRefresh(refresh: () => void): void {
  const queryClient = useQueryClient();
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;

  useEffect(() => {
    const cache = queryClient.getQueryCache();
    let started = false;
    const cachePainted = () =>
      cache.findAll({ queryKey: queryKeys.devices }).some((query) => query.state.status !== "pending");
    const startOnce = () => {
      if (started) return;
      started = true;
      unsubscribe();
      clearTimeout(grace);
      refreshRef.current();
    };
    const unsubscribe = cache.subscribe(() => {
      if (cachePainted()) startOnce();
    });
    const grace = setTimeout(startOnce, FIRST_PAINT_GRACE_MS);
    if (cachePainted()) startOnce();
    const interval = setInterval(() => refreshRef.current(), AUTO_REFRESH_MS);
    return () => {
      unsubscribe();
      clearTimeout(grace);
      clearInterval(interval);
    };
  }, [queryClient]);
}
