import { describe, expect, it } from "vitest";

import type { FleetFreshness } from "../bindings/FleetFreshness";
import { deviceCountText, formatAge, formatBytesProgress, formatDuration, formatMiB, freshnessText } from "./format";

const NOW = 1_700_000_000_000;
const MIN = 60_000;

describe("bytes", () => {
  it("shows transferred and total in MiB with one decimal, like the CLI", () => {
    expect(formatBytesProgress(6_606_028, 15_728_640)).toBe("6.3 / 15.0 MiB");
    expect(formatBytesProgress(0, 0)).toBe("0.0 / 0.0 MiB");
    expect(formatMiB(15_728_640)).toBe("15.0 MiB");
  });
});

describe("ages", () => {
  it("says just now under a minute, then minutes, hours and days", () => {
    expect(formatAge(NOW - 59_000, NOW)).toBe("just now");
    expect(formatAge(NOW - 3 * MIN, NOW)).toBe("3 min ago");
    expect(formatAge(NOW - 59 * MIN, NOW)).toBe("59 min ago");
    expect(formatAge(NOW - 2 * 60 * MIN, NOW)).toBe("2 h ago");
    expect(formatAge(NOW - 3 * 24 * 60 * MIN, NOW)).toBe("3 d ago");
  });

  it("treats a clock running behind as just now", () => {
    expect(formatAge(NOW + 5 * MIN, NOW)).toBe("just now");
  });
});

describe("fleet freshness", () => {
  const failing: FleetFreshness = {
    live: false,
    oldestRefresh: NOW - 3 * MIN,
    accounts: [
      { accountId: 1, accountName: "Sandbox Vicohome", cloud: "vicohome", refreshedAt: NOW - 3 * MIN, attemptedAt: NOW, error: null },
      {
        accountId: 2,
        accountName: "Sandbox OneNET",
        cloud: "onenet",
        refreshedAt: NOW - 3 * MIN,
        attemptedAt: NOW,
        error: { code: "offline", message: "clouds unreachable", hint: "Check the network." },
      },
    ],
  };

  it("is live when every account's last attempt succeeded", () => {
    expect(freshnessText({ live: true, oldestRefresh: NOW - 5_000, accounts: [] }, NOW)).toBe("Live · updated just now");
  });

  it("says cached, how old, and the first failure otherwise", () => {
    expect(freshnessText(failing, NOW)).toBe("Cached · updated 3 min ago · clouds unreachable");
  });

  it("says never refreshed when nothing ever came from the clouds", () => {
    expect(freshnessText({ live: false, oldestRefresh: null, accounts: [] }, NOW)).toBe("Cached · never refreshed");
  });
});

describe("device count", () => {
  it("shows the total, or the matching share of it", () => {
    expect(deviceCountText(500, 500)).toBe("500 devices");
    expect(deviceCountText(1, 1)).toBe("1 device");
    expect(deviceCountText(12, 500)).toBe("12 of 500 devices");
    expect(deviceCountText(0, 500)).toBe("0 of 500 devices");
    // The store stopped counting at its cap: a floor, never shown as the exact number.
    expect(deviceCountText(10_000, 100_000, true)).toBe("10000+ of 100000 devices");
    expect(deviceCountText(10_000, 100_000, false)).toBe("10000 of 100000 devices");
  });
});

describe("formatDuration", () => {
  it("says seconds, minutes and hours the way a technician reads them", () => {
    expect(formatDuration(45_400)).toBe("45 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(3_780_000)).toBe("1 h 3 min");
    expect(formatDuration(-5)).toBe("0 s");
  });
});
