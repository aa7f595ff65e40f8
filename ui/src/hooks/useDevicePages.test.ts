import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import type { DevicePage } from "../bindings/DevicePage";
import type { DeviceQuery } from "../bindings/DeviceQuery";
import { fakeFleet, makeDevice } from "../test/fixtures";
import { mockCommands } from "../test/tauri";
import { PAGE_SIZE, fetchAllMatching, furtherReach, reachOf, tableRowCount } from "./useDevicePages";

function page(rows: number, matching: number, matchingAtLeast: boolean): DevicePage {
  return {
    matching,
    matchingAtLeast,
    total: 100_000,
    offset: 0,
    rows: Array.from({ length: rows }, (_, i) => makeDevice(i)),
  };
}

describe("rows the device table lays out", () => {
  it("is the count when the store counted every match", () => {
    expect(tableRowCount(page(100, 250, false), { rows: 100, ended: false })).toBe(250);
    expect(tableRowCount(undefined, { rows: 0, ended: false })).toBe(0);
  });

  it("reaches a page past the furthest row seen when the count is only a floor, and stops where a short page ends", () => {
    const capped = page(PAGE_SIZE, 10_000, true);
    expect(tableRowCount(capped, reachOf(new Map([[0, capped]])))).toBe(10_000 + PAGE_SIZE);
    const further = reachOf(new Map([[120, page(PAGE_SIZE, 10_000, true)]]));
    expect(further).toEqual({ rows: 12_100, ended: false });
    expect(tableRowCount(capped, further)).toBe(12_200);
    const last = reachOf(new Map([[130, page(42, 10_000, true)]]));
    expect(last).toEqual({ rows: 13_042, ended: true });
    expect(tableRowCount(capped, last)).toBe(13_042);
  });

  it("keeps what scrolled-away pages showed, and believes a short page", () => {
    const far = { rows: 12_100, ended: false };
    expect(furtherReach(far, { rows: 200, ended: false })).toEqual(far);
    expect(furtherReach(far, { rows: 12_300, ended: false })).toEqual({ rows: 12_300, ended: false });
    const end = { rows: 12_150, ended: true };
    expect(furtherReach(far, end)).toEqual(end);
    expect(furtherReach(end, { rows: 300, ended: false })).toEqual(end);
  });
});

describe("every row matching a filter", () => {
  const filter = { search: "camera", status: "all", sort: "name", descending: false } as const;

  it("reads the counted pages", async () => {
    const fleet = fakeFleet(250);
    mockCommands({ list_devices: (args) => fleet(args.query as DeviceQuery) });
    const rows = await fetchAllMatching(new QueryClient(), filter);
    expect(rows.map((d) => d.id)).toEqual(Array.from({ length: 250 }, (_, i) => makeDevice(i).id));
  });

  it("goes on past a capped count until a page comes back short", async () => {
    const fleet = fakeFleet(350, { countCap: 120 });
    mockCommands({ list_devices: (args) => fleet(args.query as DeviceQuery) });
    const rows = await fetchAllMatching(new QueryClient(), filter);
    expect(rows).toHaveLength(350);
    expect(rows[349]!.id).toBe(makeDevice(349).id);
  });
});
