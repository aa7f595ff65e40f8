import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { makeJob } from "../test/fixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { JobsView } from "./JobsView";

describe("jobs view", () => {
  it("lists jobs newest first with progress, bytes, state and the error's next step", async () => {
    mockCommands({
      list_jobs: () => [
        makeJob({ id: 1, deviceId: "SN-OLD", startedAt: 1_000, state: "failed", phase: "failed", percent: 36,
          error: { code: "device", message: "The camera could not download the update.", hint: "Move the camera closer to the router and retry.", vendorCode: "-10401" } }),
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

    // otaStatus 4 is labelled as the seed says; the cloud's code stays beside the explanation.
    expect(rows[1]!.textContent).toContain("Update failed");
    expect(table.textContent).toContain("The camera could not download the update.");
    expect(table.textContent).toContain("(Code -10401)");
    expect(table.textContent).toContain("Move the camera closer to the router and retry.");
    expect(callsOf("list_jobs")).toEqual([{ limit: 200 }]);
  });

  it("says so when there are no jobs yet", async () => {
    mockCommands({ list_jobs: () => [] });
    renderWithQueries(<JobsView />);
    expect(await screen.findByText(/No firmware updates yet/)).toBeTruthy();
  });
});

describe("job history", () => {
  const events = [
    { at: 1_700_000_000_000, sample: { vendorState: 0, phase: "starting", percent: 0, transferred: 0, total: 0 }, message: "Update requested" },
    { at: 1_700_000_060_000, sample: { vendorState: 1, phase: "downloading", percent: 50, transferred: 7_864_320, total: 15_728_640 }, message: null },
    { at: 1_700_000_125_000, sample: { vendorState: 3, phase: "complete", percent: 100, transferred: 15_728_640, total: 15_728_640 }, message: "Camera reports 1.3.0" },
  ];

  it("opens a job's events with its duration, bytes and final state", async () => {
    const user = userEvent.setup();
    mockCommands({
      list_jobs: () => [
        makeJob({ id: 7, deviceId: "SN-DONE", state: "succeeded", phase: "complete", percent: 100, transferred: 15_728_640,
          startedAt: 1_700_000_000_000, finishedAt: 1_700_000_125_000 }),
      ],
      job_events: () => events,
    });
    renderWithQueries(<JobsView />);
    const row = await screen.findByRole("row", { name: "Show the history of the update of SN-DONE" });
    // Live progress: the phase and percent beside the bar.
    expect(row.querySelector(".cell-progress")!.textContent).toBe("Complete 100 %");
    await user.click(row);

    const panel = await screen.findByRole("dialog", { name: "History · SN-DONE" });
    expect(panel.textContent).toContain("2 min 5 s");
    expect(panel.textContent).toContain("15.0 / 15.0 MiB");
    expect(panel.textContent).toContain("Succeeded");
    const table = await within(panel).findByRole("table", { name: "Job history" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.length).toBe(3);
    expect(rows[0]!.textContent).toContain("Update requested");
    expect(rows[1]!.textContent).toContain("Downloading");
    expect(rows[1]!.textContent).toContain("50 %");
    expect(rows[1]!.textContent).toContain("7.5 / 15.0 MiB");
    expect(rows[2]!.textContent).toContain("Camera reports 1.3.0");
    expect(callsOf("job_events")).toEqual([{ jobId: 7 }]);

    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("opens with Enter, and says how long a running job has been running", async () => {
    const user = userEvent.setup();
    mockCommands({
      list_jobs: () => [makeJob({ id: 3, deviceId: "SN-RUN", startedAt: Date.now() - 65_000 })],
      job_events: () => events.slice(0, 2),
    });
    renderWithQueries(<JobsView />);
    const row = await screen.findByRole("row", { name: "Show the history of the update of SN-RUN" });
    expect(row.textContent).toContain("Downloading 37 %");
    act(() => row.focus());
    await user.keyboard("{Enter}");
    const panel = await screen.findByRole("dialog", { name: "History · SN-RUN" });
    expect(panel.textContent).toMatch(/running for 1 min \d s/);
    expect(within(await within(panel).findByRole("table", { name: "Job history" })).getAllByRole("row").length).toBe(3);
  });
});
