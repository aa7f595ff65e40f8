import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { PreflightReport } from "./PreflightReport";

describe("pre-flight report", () => {
  it("counts every reason and says when the engine listed only some of the devices left out", () => {
    render(
      <PreflightReport
        preflight={{
          targets: 900,
          eligible: 300,
          waveSizes: [3, 27, 270],
          byReason: [
            { reason: "offline", label: "Offline", count: 599 },
            { reason: "low_battery", label: "Battery too low", count: 1 },
          ],
          excluded: [
            { accountId: 1, deviceId: "SN-2", name: "Door", model: "CG6", reason: "low_battery", detail: "Battery 12 %, below the campaign's 20 %." },
          ],
        }}
      />,
    );
    const report = screen.getByRole("region", { name: "Pre-flight check" });
    expect(report.textContent).toContain("300 of 900 devices take it.");
    expect(report.textContent).toContain("Devices per wave: 3 → 27 → 270");
    expect(report.textContent).toContain("Offline: 599");
    expect(report.textContent).toContain("Battery too low: 1");
    const table = within(report).getByRole("table", { name: "Devices left out" });
    expect(within(table).getByRole("row", { name: /SN-2 Door Battery 12 %/ })).toBeTruthy();
    expect(report.textContent).toContain("The first 1 of the 600 devices left out are listed");
  });
});
