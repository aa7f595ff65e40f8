import { describe, expect, it } from "vitest";

import { fromLocalInput, pickerBounds, suggestWindow, toLocalInput } from "./appointment";

const H = 3_600_000;

describe("datetime-local values", () => {
  it("round-trip in local time at minute precision", () => {
    const at = new Date(2026, 4, 1, 22, 5).getTime();
    expect(toLocalInput(at)).toBe("2026-05-01T22:05");
    expect(fromLocalInput("2026-05-01T22:05")).toBe(at);
    expect(fromLocalInput("2026-05-01T22:05:30")).toBe(at + 30_000);
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("tomorrow")).toBeNull();
  });

  it("bound the pickers to whole minutes inside the period", () => {
    const start = new Date(2026, 4, 1, 10, 23, 45).getTime();
    const end = new Date(2026, 4, 8, 10, 23, 45).getTime();
    expect(pickerBounds(start, end)).toEqual({ min: "2026-05-01T10:24", max: "2026-05-08T10:23" });
    expect(pickerBounds(null, null)).toEqual({ min: undefined, max: undefined });
  });

  it("suggest a two-hour window from the next whole hour when the period allows", () => {
    const now = new Date(2026, 4, 1, 10, 23).getTime();
    const periodEnd = new Date(2026, 4, 8, 0, 0).getTime();
    const w = suggestWindow(now - H, periodEnd, now);
    expect(toLocalInput(w.start)).toBe("2026-05-01T11:00");
    expect(w.end - w.start).toBe(2 * H);
    // A period that ends soon: the window is fitted before its end.
    const soon = now + 90 * 60_000;
    const fitted = suggestWindow(now - H, soon, now);
    expect(fitted.end).toBeLessThanOrEqual(soon);
    expect(fitted.start).toBeGreaterThanOrEqual(now - H);
    expect(fitted.end - fitted.start).toBeGreaterThanOrEqual(H);
  });
});
