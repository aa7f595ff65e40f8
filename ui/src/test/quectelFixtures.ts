// Quectel plan test data shaped exactly like the generated bindings.

import type { QuectelActionReport } from "../bindings/QuectelActionReport";
import type { QuectelPlanAction } from "../bindings/QuectelPlanAction";
import type { QuectelPlanList } from "../bindings/QuectelPlanList";
import type { QuectelPlanRow } from "../bindings/QuectelPlanRow";

export const HOUR = 3_600_000;
/** A fixed "now" for plan periods: 1 May 2026, 10:00 local time. */
export const NOW = new Date(2026, 4, 1, 10, 0).getTime();

export function makePlanRow(index: number, overrides: Partial<QuectelPlanRow> = {}): QuectelPlanRow {
  return {
    accountId: 3,
    accountName: "Sandbox Quectel",
    deviceKey: `DK${String(index).padStart(4, "0")}`,
    deviceName: `Meter ${index}`,
    productKey: "p11abc",
    bluetooth: false,
    planId: 7_310_000_001,
    planName: "Spring update",
    targetVersion: "9.9.9",
    planStart: NOW - HOUR,
    planEnd: NOW + 7 * 24 * HOUR,
    appointStart: null,
    appointEnd: null,
    state: "waiting",
    deviceStatus: 0,
    userConfirmStatus: 0,
    percent: 0,
    actions: { confirm: true, appoint: true, cancel: true, retry: false },
    refreshedAt: NOW,
    cached: false,
    ...overrides,
  };
}

export function planList(rows: QuectelPlanRow[], overrides: Partial<QuectelPlanList> = {}): QuectelPlanList {
  return { rows, devices: rows.length + 5, live: true, errors: [], ...overrides };
}

export function report(action: QuectelPlanAction, rows: QuectelPlanRow[]): QuectelActionReport {
  return {
    action,
    results: rows.map((r) => ({ deviceKey: r.deviceKey, planId: r.planId, ok: true, error: null })),
    rows,
  };
}
