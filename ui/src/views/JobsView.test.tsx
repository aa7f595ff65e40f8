import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { makeJob } from "../test/fixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { JobsView } from "./JobsView";

describe("jobs view", () => {
  it("lists jobs newest first with progress, bytes, state and the error's next step", async () => {
    mockCommands({
      list_jobs: () => [
        makeJob({ id: 1, deviceId: "SN-OLD", startedAt: 1_000, state: "failed", phase: "download_failed", percent: 36,
          error: { code: "device", message: "The camera's battery is too low.", hint: "Charge it above 20 % and retry." } }),
        makeJob({ id: 2, deviceId: "SN-NEW", startedAt: 2_000 }),
      ],
    });
    renderWithQueries(<JobsView />);
    const table = await screen.findByRole("table", { name: "Firmware update jobs" });
    const rows = within(table).getAllByRole("row").filter((r) => r.hasAttribute("data-job-id"));
    expect(rows.map((r) => r.getAttribute("data-job-id"))).toEqual(["2", "1"]);

    const running = rows[0]!;
    const bar = within(running).getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("37");
    expect(running.textContent).toContain("6.3 / 15.0 MiB");
    expect(running.textContent).toContain("Downloading");
    expect(running.textContent).toContain("Running");

    expect(rows[1]!.textContent).toContain("Download failed");
    expect(table.textContent).toContain("The camera's battery is too low.");
    expect(table.textContent).toContain("Charge it above 20 % and retry.");
    expect(callsOf("list_jobs")).toEqual([{ limit: 200 }]);
  });

  it("says so when there are no jobs yet", async () => {
    mockCommands({ list_jobs: () => [] });
    renderWithQueries(<JobsView />);
    expect(await screen.findByText(/No firmware updates yet/)).toBeTruthy();
  });
});
