import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";

import { actOnQuectelPlans, listQuectelPlans, quectelPlanDetails } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { QuectelActionReport } from "../bindings/QuectelActionReport";
import type { QuectelPlanAction } from "../bindings/QuectelPlanAction";
import type { QuectelPlanItem } from "../bindings/QuectelPlanItem";
import type { QuectelPlanList } from "../bindings/QuectelPlanList";
import type { QuectelPlanRow } from "../bindings/QuectelPlanRow";
import type { QuectelWindow } from "../bindings/QuectelWindow";
import { queryKeys } from "../queryKeys";

/** While something is in progress the plans are polled this often (as the vendor apps do). */
export const PLAN_POLL_MS = 3_000;

export function planKey(row: { deviceKey: string; planId: number }): string {
  return `${row.deviceKey}:${row.planId}`;
}

export function itemOf(row: QuectelPlanRow): QuectelPlanItem {
  return { deviceKey: row.deviceKey, planId: row.planId };
}

/** Worth polling: the cloud moves it along by itself (or its appointed window has opened). */
export function isInProgress(row: QuectelPlanRow, now: number): boolean {
  if (row.state === "upgrading" || row.state === "confirmed") return true;
  return row.state === "appointed" && row.appointStart !== null && row.appointStart <= now;
}

/** The list with these fresher rows in place of the old ones (same device and plan). */
export function mergeRows(list: QuectelPlanList, fresh: readonly QuectelPlanRow[]): QuectelPlanList {
  if (fresh.length === 0) return list;
  const byKey = new Map(fresh.map((r) => [planKey(r), r]));
  return { ...list, rows: list.rows.map((row) => byKey.get(planKey(row)) ?? row) };
}

function mergeIntoLists(queryClient: QueryClient, fresh: readonly QuectelPlanRow[]) {
  for (const cached of [false, true]) {
    queryClient.setQueryData<QuectelPlanList>(queryKeys.quectelPlanList(cached), (list) =>
      list ? mergeRows(list, fresh) : list,
    );
  }
}

/**
 * The plans view's server state: the cached list paints at once, the live list replaces it; while any row
 * is in progress its details are polled every 3 s and merged into the list.
 */
export function useQuectelPlans(now: number) {
  const queryClient = useQueryClient();
  const cached = useQuery<QuectelPlanList, ApiError>({
    queryKey: queryKeys.quectelPlanList(true),
    queryFn: () => listQuectelPlans(true),
    staleTime: Infinity,
  });
  const live = useQuery<QuectelPlanList, ApiError>({
    queryKey: queryKeys.quectelPlanList(false),
    queryFn: () => listQuectelPlans(false),
    staleTime: 60_000,
  });
  const list = live.data ?? cached.data;

  const busyItems = useMemo(
    () => (list?.rows ?? []).filter((row) => isInProgress(row, now)).map(itemOf),
    [list, now],
  );
  const busyKey = busyItems.map(planKey).sort().join(",");
  useQuery<QuectelPlanRow[], ApiError>({
    queryKey: queryKeys.quectelPlanDetails(busyKey),
    queryFn: async () => {
      const rows = await quectelPlanDetails(busyItems);
      mergeIntoLists(queryClient, rows);
      return rows;
    },
    enabled: busyItems.length > 0,
    refetchInterval: PLAN_POLL_MS,
    refetchIntervalInBackground: true,
    staleTime: 0,
    gcTime: 0,
  });

  const merge = useCallback((rows: readonly QuectelPlanRow[]) => mergeIntoLists(queryClient, rows), [queryClient]);

  return {
    list,
    /** True while only the cache is shown (the live list is still loading or failed). */
    showingCache: live.data === undefined && cached.data !== undefined,
    loading: list === undefined && (live.isPending || cached.isPending),
    error: live.error,
    refreshing: live.isFetching,
    refresh: () => void live.refetch(),
    merge,
    polling: busyItems.length > 0,
  };
}

export interface ActionRequest {
  action: QuectelPlanAction;
  items: QuectelPlanItem[];
  window?: QuectelWindow;
}

/** One batch action; its answers per device, and the rows as the cloud shows them right after. */
export function usePlanAction(onRows: (rows: readonly QuectelPlanRow[]) => void) {
  return useMutation<QuectelActionReport, ApiError, ActionRequest>({
    mutationFn: ({ action, items, window }) => actOnQuectelPlans(action, items, window),
    onSuccess: (report) => onRows(report.rows),
  });
}
