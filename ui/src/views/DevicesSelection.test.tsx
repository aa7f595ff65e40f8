import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Device } from "../bindings/Device";
import type { DeviceQuery } from "../bindings/DeviceQuery";
import { makeDevice, makeJob } from "../test/fixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { DevicesView } from "./DevicesView";

const FLEET: Device[] = [
  makeDevice(0, { name: "Front door" }),
  makeDevice(1, { name: "Garage" }),
  makeDevice(2, { name: "Backyard" }),
  makeDevice(3, { cloud: "onenet", id: "527776559", name: "Pump 1", accountId: 2 }),
];

function setup(startUpdate: (args: Record<string, unknown>) => unknown = (args) =>
  makeJob({ deviceId: String(args.serial), state: "starting", phase: "starting", percent: 0 })) {
  mockCommands({
    list_devices: (args) => {
      const query = args.query as DeviceQuery;
      const rows = FLEET.filter((d) => query.cloud === undefined || d.cloud === query.cloud);
      return { matching: rows.length, total: FLEET.length, offset: query.offset, rows: rows.slice(query.offset, query.offset + query.limit) };
    },
    list_accounts: () => [],
    start_vicohome_update: startUpdate,
  });
  return renderWithQueries(<DevicesView />);
}

describe("selecting devices", () => {
  it("updates every selected camera once and skips a OneNET device with the reason", async () => {
    const user = userEvent.setup();
    setup((args) => {
      if (args.serial === "SN000001") {
        throw { code: "device", message: "The camera's battery is too low.", hint: "Charge it above 20 % and retry." };
      }
      return makeJob({ deviceId: String(args.serial), state: "running", phase: "downloading", percent: 5 });
    });
    await user.click(await screen.findByRole("checkbox", { name: "Select Front door" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Garage" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Pump 1" }));
    // Ticking a box does not open the row.
    expect(screen.queryByRole("dialog")).toBeNull();

    const bar = screen.getByRole("region", { name: "Selection" });
    expect(within(bar).getByText("3 selected")).toBeTruthy();
    const skipped = within(bar).getByRole("list", { name: "Skipped" });
    expect(skipped.textContent).toContain("Pump 1 (OneNET): only Vicohome cameras can be updated from the console.");

    await user.click(within(bar).getByRole("button", { name: "Update 2 cameras" }));
    // Nothing starts before the confirmation, which says how many and that each is started once.
    const question = screen.getByRole("alertdialog", { name: "Update 2 cameras?" });
    expect(question.textContent).toContain("Each of the 2 cameras is started once");
    expect(callsOf("start_vicohome_update")).toEqual([]);
    await user.click(within(question).getByRole("button", { name: "Start 2 updates" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    const results = await within(bar).findByRole("list", { name: "Update results" });
    await waitFor(() => expect(results.textContent).toContain("Started"));
    await waitFor(() => expect(results.textContent).toContain("The camera's battery is too low."));

    expect(callsOf("start_vicohome_update").map((a) => [a.accountId, a.serial]).sort()).toEqual([
      [1, "SN000000"],
      [1, "SN000001"],
    ]);
    const [front, garage] = within(results).getAllByRole("listitem");
    expect(front!.textContent).toContain("Front door");
    expect(front!.textContent).toContain("Downloading 5 %");
    expect(garage!.textContent).toContain("Refused");
    expect(garage!.textContent).toContain("Charge it above 20 % and retry.");
  });

  it("Space ticks the active row, the header box selects all shown, and Clear selection empties it", async () => {
    const user = userEvent.setup();
    setup();
    await screen.findByRole("checkbox", { name: "Select Front door" });
    const grid = screen.getByRole("grid", { name: "Devices" });
    act(() => grid.focus());
    await user.keyboard("{ArrowDown}[Space]");
    expect(screen.getByRole<HTMLInputElement>("checkbox", { name: "Select Garage" }).checked).toBe(true);
    expect(screen.getByText("1 selected")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Update 1 camera" })).toHaveProperty("disabled", false);
    // Space ticks; it does not open the details.
    expect(screen.queryByRole("dialog")).toBeNull();
    await user.keyboard("[Space]");
    expect(screen.queryByRole("region", { name: "Selection" })).toBeNull();

    const all = screen.getByRole<HTMLInputElement>("checkbox", { name: "Select all shown" });
    await user.click(all);
    await waitFor(() => expect(screen.getByText("4 selected")).toBeTruthy());
    expect(all.checked).toBe(true);
    expect(screen.getByRole("button", { name: "Update 3 cameras" })).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Clear selection" }));
    expect(screen.queryByText(/selected$/)).toBeNull();
    expect(all.checked).toBe(false);
    expect(callsOf("start_vicohome_update")).toEqual([]);
  });

  it("leaves out cameras already on the newest firmware and says so; Cancel starts nothing", async () => {
    const user = userEvent.setup();
    FLEET[1] = makeDevice(1, { name: "Garage", firmware: "1.3.0", newestFirmware: "1.3.0" });
    try {
      setup();
      await user.click(await screen.findByRole("checkbox", { name: "Select Front door" }));
      await user.click(screen.getByRole("checkbox", { name: "Select Garage" }));
      await user.click(screen.getByRole("checkbox", { name: "Select Backyard" }));
      const bar = screen.getByRole("region", { name: "Selection" });
      expect(within(bar).getByRole("list", { name: "Skipped" }).textContent).toContain(
        "Garage: already on the newest firmware (1.3.0).",
      );

      await user.click(within(bar).getByRole("button", { name: "Update 2 cameras" }));
      const question = screen.getByRole("alertdialog", { name: "Update 2 cameras?" });
      expect(question.textContent).toContain("1 selected camera already on the newest firmware is left out.");
      // The safe choice has the focus.
      expect(document.activeElement).toBe(within(question).getByRole("button", { name: "Cancel" }));
      await user.keyboard("{Enter}");
      expect(screen.queryByRole("alertdialog")).toBeNull();
      expect(callsOf("start_vicohome_update")).toEqual([]);

      await user.click(within(bar).getByRole("button", { name: "Update 2 cameras" }));
      await user.click(screen.getByRole("button", { name: "Start 2 updates" }));
      await waitFor(() => expect(callsOf("start_vicohome_update").length).toBe(2));
      expect(callsOf("start_vicohome_update").map((a) => a.serial).sort()).toEqual(["SN000000", "SN000002"]);
    } finally {
      FLEET[1] = makeDevice(1, { name: "Garage" });
    }
  });

  it("offers no update when only other clouds are selected", async () => {
    const user = userEvent.setup();
    setup();
    await user.click(await screen.findByRole("checkbox", { name: "Select Pump 1" }));
    expect(screen.getByRole("button", { name: "Update 0 cameras" })).toHaveProperty("disabled", true);
  });
});
