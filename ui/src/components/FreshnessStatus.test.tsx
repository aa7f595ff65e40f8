import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { FleetFreshness } from "../bindings/FleetFreshness";
import { renderWithQueries } from "../test/render";
import { mockCommands } from "../test/tauri";
import { FreshnessStatus } from "./FreshnessStatus";

async function freshnessShown(freshness: FleetFreshness): Promise<string> {
  mockCommands({ fleet_freshness: () => freshness });
  renderWithQueries(<FreshnessStatus />);
  const status = screen.getByRole("status", { name: "Fleet freshness" });
  await waitFor(() => expect(status.textContent).not.toBe("Checking freshness…"));
  return status.textContent ?? "";
}

describe("fleet freshness", () => {
  it("says Live after a successful refresh", async () => {
    expect(await freshnessShown({ live: true, oldestRefresh: Date.now() - 2_000, accounts: [] })).toBe(
      "Live · updated just now",
    );
  });

  it("says Cached with the age and the first failure", async () => {
    const threeMinutesAgo = Date.now() - 3 * 60_000 - 5_000;
    const text = await freshnessShown({
      live: false,
      oldestRefresh: threeMinutesAgo,
      accounts: [
        {
          accountId: 1,
          accountName: "Sandbox Quectel",
          cloud: "quectel",
          refreshedAt: threeMinutesAgo,
          attemptedAt: Date.now(),
          error: { code: "offline", message: "clouds unreachable" },
        },
      ],
    });
    expect(text).toBe("Cached · updated 3 min ago · clouds unreachable");
  });

  it("says never refreshed when the cache never came from a cloud", async () => {
    expect(await freshnessShown({ live: false, oldestRefresh: null, accounts: [] })).toBe("Cached · never refreshed");
  });
});
