import { describe, expect, it } from "vitest";

import {
  fromLocalInput,
  MIN_APPOINTMENT_MS,
  pickerBounds,
  suggestWindow,
  toLocalInput,
  validateAppointment,
} from "./appointment";

const H = MIN_APPOINTMENT_MS;

describe("validateAppointment (the client's rules)", () => {
  it("accepts a window of one hour or more inside the period", () => {
    expect(validateAppointment(0, 10 * H, H, 2 * H)).toBeNull();
    expect(validateAppointment(0, 10 * H, 0, 10 * H)).toBeNull();
    expect(validateAppointment(null, null, 5 * H, 7 * H)).toBeNull();
  });

  it("refuses a window shorter than one hour, saying how long it is", () => {
    expect(validateAppointment(0, 10 * H, H, 2 * H - 60_000)).toEqual({ kind: "short", minutes: 59 });
  });

  it("refuses a window outside the period, at either end", () => {
    expect(validateAppointment(0, 10 * H, 9 * H, 11 * H)).toEqual({ kind: "outside" });
    expect(validateAppointment(2 * H, 10 * H, H, 4 * H)).toEqual({ kind: "outside" });
    // Outside wins over short, as in the client.
    expect(validateAppointment(0, 10 * H, 10 * H - 60_000, 10 * H + 60_000)).toEqual({ kind: "outside" });
  });

  it("refuses a window that ends before it starts, or is not complete", () => {
    expect(validateAppointment(0, 10 * H, 3 * H, 2 * H)).toEqual({ kind: "order" });
    expect(validateAppointment(0, 10 * H, 3 * H, 3 * H)).toEqual({ kind: "order" });
    expect(validateAppointment(0, 10 * H, null, 2 * H)).toEqual({ kind: "missing" });
  });
});

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

  it("suggest a valid two-hour window from the next whole hour when the period allows", () => {
    const now = new Date(2026, 4, 1, 10, 23).getTime();
    const periodEnd = new Date(2026, 4, 8, 0, 0).getTime();
    const w = suggestWindow(now - H, periodEnd, now);
    expect(toLocalInput(w.start)).toBe("2026-05-01T11:00");
    expect(w.end - w.start).toBe(2 * H);
    expect(validateAppointment(now - H, periodEnd, w.start, w.end)).toBeNull();
    // A period that ends soon: the window is fitted before its end.
    const soon = now + 90 * 60_000;
    const fitted = suggestWindow(now - H, soon, now);
    expect(fitted.end).toBeLessThanOrEqual(soon);
    expect(validateAppointment(now - H, soon, fitted.start, fitted.end)).toBeNull();
  });
});
