import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { FleetVersions } from "../bindings/FleetVersions";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { FleetView } from "./FleetView";

const fleet: FleetVersions = {
  models: [
    {
      cloud: "vicohome",
      model: "CG6",
      newest: "2.0.10",
      total: 40,
      behind: 30,
      versions: [
        { version: "2.0.10", devices: 10 },
        { version: "2.0.9", devices: 30 },
      ],
    },
  ],
  successByVersion: [{ cloud: "vicohome", version: "2.0.10", attempts: 12, succeeded: 10, failed: 2 }],
  failuresByDay: [{ day: "2026-12-03", reason: "Version not confirmed", count: 2 }],
};

describe("fleet view", () => {
  it("shows each model's versions with counts, the newest and how many are behind, success rates and failures", async () => {
    mockCommands({ fleet_versions: () => fleet });
    renderWithQueries(<FleetView />);
    const versions = await screen.findByRole("table", { name: "Versions of CG6" });
    const newest = within(versions).getByRole("row", { name: /2\.0\.10/ });
    expect(newest.textContent).toContain("(newest)");
    expect(within(newest).getAllByRole("cell").map((c) => c.textContent)).toEqual(["10", "25.0 %"]);
    expect(screen.getByLabelText("CG6 summary").textContent).toBe("40 devices · newest 2.0.10 · 30 behind");
    const success = screen.getByRole("table", { name: "Success rate by firmware version" });
    expect(within(success).getByRole("row", { name: /2\.0\.10/ }).textContent).toContain("83.3 %");
    const failures = screen.getByRole("table", { name: "Failures by reason, last 30 days" });
    expect(failures.textContent).toContain("Version not confirmed");
  });

  it("exports the counts as CSV where the user chooses and says where", async () => {
    mockCommands({ fleet_versions: () => fleet, export_fleet_versions: () => "/home/ana/fleet.csv" });
    renderWithQueries(<FleetView />);
    await screen.findByRole("table", { name: "Versions of CG6" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Export CSV" }));
    expect(callsOf("export_fleet_versions")).toHaveLength(1);
    expect((await screen.findByRole("status")).textContent).toBe("Saved to /home/ana/fleet.csv.");
  });

  it("says what to do when no device is cached yet", async () => {
    mockCommands({ fleet_versions: () => ({ models: [], successByVersion: [], failuresByDay: [] }) });
    renderWithQueries(<FleetView />);
    expect((await screen.findByText(/No devices in the cache yet/)).textContent).toContain("refresh the fleet");
  });
});
