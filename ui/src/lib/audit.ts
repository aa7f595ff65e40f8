// The audit log's filters as the engine reads them.

import type { AuditQuery } from "../bindings/AuditQuery";
import { isCloud } from "./clouds";

/** What the filter fields hold (datetime-local values for the times; "" means no filter). */
export interface AuditFilters {
  action: string;
  cloud: string;
  result: string;
  text: string;
  since: string;
  until: string;
}

export const NO_AUDIT_FILTERS: AuditFilters = { action: "", cloud: "", result: "", text: "", since: "", until: "" };

/** The AuditQuery for the filters; `limit` 0 means every matching entry. Empty fields are left out. */
export function toAuditQuery(f: AuditFilters, limit: number): AuditQuery {
  const time = (v: string) => (v ? new Date(v).getTime() : NaN);
  const since = time(f.since);
  const until = time(f.until);
  return {
    ...(f.action.trim() ? { action: f.action.trim() } : {}),
    ...(isCloud(f.cloud) ? { cloud: f.cloud } : {}),
    ...(f.result === "ok" || f.result === "error" ? { result: f.result } : {}),
    ...(f.text.trim() ? { text: f.text.trim() } : {}),
    ...(Number.isFinite(since) ? { since } : {}),
    ...(Number.isFinite(until) ? { until } : {}),
    limit,
  };
}
