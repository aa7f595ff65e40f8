import { describe, expect, it } from "vitest";

import {
  continuousNotAllowed,
  formatOffset,
  initialForm,
  minutesOf,
  numberProblem,
  parseWaves,
  toNewCampaign,
  windowIncomplete,
} from "./campaignForm";

describe("campaign form", () => {
  it("parses cumulative waves that rise to 100", () => {
    expect(parseWaves("1, 10, 100")).toEqual([1, 10, 100]);
    expect(parseWaves("5%,50 %,100")).toEqual([5, 50, 100]);
    expect(parseWaves("100")).toEqual([100]);
    for (const bad of ["", "10, 5, 100", "10, 50", "0, 100", "a, 100", "50, 120"]) {
      expect(parseWaves(bad), bad).toBeNull();
    }
  });

  it("builds the NewCampaign the engine checks: filter on the firmware's cloud, window in minutes", () => {
    const form = {
      ...initialForm(),
      name: " CG6 rollout ",
      firmwareId: 4,
      cloud: "vicohome" as const,
      search: "CG6",
      onlineOnly: true,
      waves: "5, 100",
      concurrency: "16",
      maxRetries: "2",
      useWindow: true,
      windowDays: [4, 0],
      windowOpens: "22:30",
      windowCloses: "04:15",
    };
    const campaign = toNewCampaign(form, 60);
    expect(campaign).toEqual({
      name: "CG6 rollout",
      firmwareId: 4,
      targets: {
        kind: "filter",
        query: { search: "CG6", cloud: "vicohome", status: "online", sort: "name", descending: false, offset: 0, limit: 0 },
      },
      settings: {
        waves: [5, 100],
        concurrency: 16,
        requestsPerSecond: 20,
        failureThresholdPercent: 10,
        onThreshold: "abort",
        retry: { maxRetries: 2, backoffSecs: 60, retryOn: ["offline", "rate_limited", "retryable"] },
        window: { days: [0, 4], startMinute: 1350, endMinute: 255, utcOffsetMinutes: 60 },
        minBattery: 20,
      },
      rules: { bakeSecs: 0, gate: "auto", verifyVersion: true, requireApproval: false, continuous: false },
    });
    expect(toNewCampaign({ ...form, waves: "50" })).toBeNull();
    expect(toNewCampaign({ ...form, firmwareId: null })).toBeNull();
  });

  it("formats times and offsets", () => {
    expect(minutesOf("07:05")).toBe(425);
    expect(formatOffset(330)).toBe("+05:30");
    expect(formatOffset(-300)).toBe("−05:00");
  });

  it("holds back numbers the engine could not read, naming the field and its range", () => {
    const form = { ...initialForm(), firmwareId: 4 };
    expect(numberProblem(form)).toBeNull();
    expect(toNewCampaign(form)).not.toBeNull();
    for (const [key, value, field] of [
      ["concurrency", "0", "form.concurrency"],
      ["concurrency", "2.5", "form.concurrency"],
      ["minBattery", "300", "form.minBattery"],
      ["minBattery", "", "form.minBattery"],
      ["maxRetries", "-1", "form.retries"],
      ["rate", "0", "form.rate"],
      ["threshold", "101", "form.threshold"],
    ] as const) {
      const bad = { ...form, [key]: value };
      expect(numberProblem(bad)?.field, `${key}=${value}`).toBe(field);
      expect(toNewCampaign(bad), `${key}=${value}`).toBeNull();
    }
    expect(numberProblem({ ...form, rate: "2.5" })).toBeNull();
    expect(windowIncomplete({ ...form, useWindow: true, windowCloses: "" })).toBe(true);
    expect(toNewCampaign({ ...form, useWindow: true, windowCloses: "" })).toBeNull();
  });

  it("targets a cohort with the rules the form holds (minutes to seconds), and keeps a fixed cohort from being continuous", () => {
    const form = {
      ...initialForm(),
      name: "Pilot",
      firmwareId: 4,
      targetKind: "cohort" as const,
      cohortId: 7,
      cohortDynamic: false,
      gate: "manual" as const,
      bakeMinutes: "30",
      deviceTimeoutMinutes: "45",
      requireApproval: true,
    };
    const campaign = toNewCampaign(form, 0);
    expect(campaign?.targets).toEqual({ kind: "cohort", cohortId: 7 });
    expect(campaign?.rules).toEqual({
      bakeSecs: 1800,
      gate: "manual",
      deviceTimeoutSecs: 2700,
      verifyVersion: true,
      requireApproval: true,
      continuous: false,
    });
    expect(toNewCampaign({ ...form, cohortId: null })).toBeNull();
    expect(continuousNotAllowed({ ...form, continuous: true })).toBe(true);
    expect(continuousNotAllowed({ ...form, continuous: true, cohortDynamic: true })).toBe(false);
    expect(numberProblem({ ...form, deviceTimeoutMinutes: "0" })?.field).toBe("form.deviceTimeout");
    expect(numberProblem({ ...form, bakeMinutes: "1.5" })?.field).toBe("form.bake");
  });
});
