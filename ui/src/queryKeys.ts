// React Query keys in one place, so invalidation by data kind cannot miss one.

import type { DataKind } from "./bindings/DataKind";
import type { DeviceQuery } from "./bindings/DeviceQuery";

/** The filter and order of the device list; the page window is added per page. */
export type DeviceFilter = Omit<DeviceQuery, "offset" | "limit">;

export const queryKeys = {
  appInfo: ["appInfo"] as const,
  freshness: ["freshness"] as const,
  devices: ["devices"] as const,
  devicePage: (filter: DeviceFilter, page: number) => ["devices", filter, page] as const,
  /** One device by its key; under "devices" so the same notices refresh it. */
  device: (accountId: number, deviceId: string) => ["devices", "one", accountId, deviceId] as const,
  /** What updating these selected devices would do; under "devices" so the same notices re-ask Rust. */
  vicohomeUpdatePlan: (deviceKeys: string) => ["devices", "vicohomeUpdatePlan", deviceKeys] as const,
  /** Tags and cohorts count devices, so device notices refresh them too. */
  tags: ["devices", "tags"] as const,
  cohorts: ["devices", "cohorts"] as const,
  fleetVersions: ["devices", "fleetVersions"] as const,
  accounts: ["accounts"] as const,
  jobs: ["jobs"] as const,
  jobList: (limit: number) => ["jobs", "list", limit] as const,
  jobEvents: (jobId: number) => ["jobs", "events", jobId] as const,
  audit: ["audit"] as const,
  teamDatabase: ["teamDatabase"] as const,
  webhooks: ["webhooks"] as const,
  webhookList: ["webhooks", "list"] as const,
  webhookDeliveries: (webhookId: number) => ["webhooks", "deliveries", webhookId] as const,
  auditList: (query: string) => ["audit", "list", query] as const,
  library: ["library"] as const,
  campaigns: ["campaigns"] as const,
  campaignDashboard: (id: number) => ["campaigns", "dashboard", id] as const,
  campaignDevices: (id: number, query: string) => ["campaigns", "devices", id, query] as const,
  onenetResultCodes: ["onenet", "resultCodes"] as const,
  quectelPlans: ["quectel", "plans"] as const,
  quectelPlanList: (cached: boolean) => ["quectel", "plans", cached ? "cached" : "live"] as const,
  quectelPlanDetails: (items: string) => ["quectel", "plans", "details", items] as const,
  quectelAppointmentCheck: (planStart: number | null, planEnd: number | null, window: string) =>
    ["quectel", "appointmentCheck", planStart, planEnd, window] as const,
  quectelAutoUpgrade: (deviceKey: string) => ["quectel", "autoUpgrade", deviceKey] as const,
  quectelBleStatuses: ["quectel", "bleStatuses"] as const,
};

/** Which queries a change notice makes stale. */
export function keysForKind(kind: DataKind): ReadonlyArray<readonly string[]> {
  switch (kind) {
    case "devices":
      return [queryKeys.devices, queryKeys.freshness];
    case "accounts":
      return [queryKeys.accounts, queryKeys.devices, queryKeys.freshness, queryKeys.appInfo, queryKeys.quectelPlans];
    case "jobs":
      return [queryKeys.jobs, queryKeys.fleetVersions];
    case "audit":
      // Webhook changes and delivery attempts are audit-kind notices (in team mode, other desks' too).
      return [queryKeys.audit, queryKeys.webhooks];
    case "library":
      return [queryKeys.library];
    case "campaigns":
      return [queryKeys.campaigns, queryKeys.library, queryKeys.fleetVersions, queryKeys.cohorts];
  }
}
