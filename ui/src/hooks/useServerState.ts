// Read-only server state shared by several components.

import { useQuery } from "@tanstack/react-query";

import { appInfo, fleetFreshness, listAccounts, listJobs } from "../api";
import type { Account } from "../bindings/Account";
import type { ApiError } from "../bindings/ApiError";
import type { AppInfo } from "../bindings/AppInfo";
import type { FleetFreshness } from "../bindings/FleetFreshness";
import type { JobView } from "../bindings/JobView";
import { queryKeys } from "../queryKeys";

export const JOB_LIST_LIMIT = 200;

export function useAppInfo() {
  return useQuery<AppInfo, ApiError>({
    queryKey: queryKeys.appInfo,
    queryFn: appInfo,
    staleTime: Infinity,
  });
}

export function useFreshness() {
  return useQuery<FleetFreshness, ApiError>({
    queryKey: queryKeys.freshness,
    queryFn: fleetFreshness,
  });
}

export function useAccounts() {
  return useQuery<Account[], ApiError>({
    queryKey: queryKeys.accounts,
    queryFn: listAccounts,
  });
}

/** Newest first, whatever order the store answered in. */
export function useJobs() {
  return useQuery<JobView[], ApiError>({
    queryKey: queryKeys.jobList(JOB_LIST_LIMIT),
    queryFn: () => listJobs(JOB_LIST_LIMIT),
    select: (jobs) => [...jobs].sort((a, b) => b.startedAt - a.startedAt || b.id - a.id),
  });
}
