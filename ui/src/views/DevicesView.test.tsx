import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeFleet, makeDevice } from "../test/fixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import type { DeviceKey } from "../bindings/DeviceKey";
import type { DeviceQuery } from "../bindings/DeviceQuery";
import { DevicesView } from "./DevicesView";

function setup(total = 250, countCap?: number) {
  const fleet = fakeFleet(total, { countCap });
  mockCommands({
    list_devices: (args) => fleet(args.query as DeviceQuery),
    list_accounts: () => [
      { id: 1, name: "Sandbox Vicohome", cloud: "vicohome", baseUrl: "http://127.0.0.1:1", region: "us", username: "a@b.c", sandbox: true, allowHttp: false, createdAt: 0 },
    ],
  });
  return renderWithQueries(<DevicesView />);
}

async function renderedRows(): Promise<HTMLElement[]> {
  const grid = screen.getByRole("grid", { name: "Devices" });
  await waitFor(() => expect(grid.querySelectorAll("[data-device-id]").length).toBeGreaterThan(0));
  return Array.from(grid.querySelectorAll<HTMLElement>("[data-device-id]"));
}

/** A fleet of 250 shown in the grid, the grid holding the keyboard focus; the grid. */
async function focusedGrid(): Promise<HTMLElement> {
  setup(250);
  await renderedRows();
  const grid = screen.getByRole("grid", { name: "Devices" });
  act(() => grid.focus());
  return grid;
}

describe("device table", () => {
  it("renders rows from the first page only, with every column", async () => {
    setup(250);
    const rows = await renderedRows();
    const grid = screen.getByRole("grid", { name: "Devices" });
    expect(grid.getAttribute("aria-rowcount")).toBe("251");
    // Virtualized: a screenful plus overscan, never the whole fleet.
    expect(rows.length).toBeLessThan(60);
    const first = rows[0]!;
    expect(first.getAttribute("data-device-id")).toBe("SN000000");
    const cells = within(first).getAllByRole("gridcell").map((c) => c.textContent);
    // The first cell is the selection box.
    expect(within(first).getByRole("checkbox", { name: "Select Camera 0" })).toBeTruthy();
    expect(cells).toEqual(["", "Vicohome", "Camera 0", "SN000000", "CG6", "1.2.0", "Online", "80 %"]);
    expect(screen.getByRole("status", { name: "Device count" }).textContent).toBe("250 devices");
    for (const args of callsOf("list_devices")) {
      expect((args.query as DeviceQuery).limit).toBe(100);
      expect((args.query as DeviceQuery).offset).toBe(0);
    }
  });

  it("hints at newer firmware and flags a low battery", async () => {
    mockCommands({
      list_devices: () => ({
        matching: 1,
        matchingAtLeast: false,
        total: 1,
        offset: 0,
        rows: [makeDevice(7, { newestFirmware: "1.3.0", battery: 12, online: false })],
      }),
      list_accounts: () => [],
    });
    renderWithQueries(<DevicesView />);
    const [row] = await renderedRows();
    const cells = within(row!).getAllByRole("gridcell");
    expect(cells[5]!.textContent).toBe("1.2.0 → 1.3.0");
    expect(cells[6]!.textContent).toBe("Offline");
    expect(cells[7]!.className).toContain("battery-low");
  });

  it("searches with the typed text after a short pause", async () => {
    const user = userEvent.setup();
    setup(250);
    await renderedRows();
    await user.type(screen.getByRole("searchbox", { name: "Search devices" }), "Camera 12");
    await waitFor(() =>
      expect(screen.getByRole("status", { name: "Device count" }).textContent).toBe("11 of 250 devices"),
    );
    const searches = callsOf("list_devices").map((a) => (a.query as DeviceQuery).search);
    expect(searches).toContain("Camera 12");
    // Debounced: not one call per keystroke.
    expect(searches.filter((s) => s.startsWith("C")).length).toBeLessThan(4);
    expect((await renderedRows()).map((r) => r.getAttribute("data-device-id"))[0]).toBe("SN000012");
  });

  it("shows the empty state with a way back", async () => {
    const user = userEvent.setup();
    setup(5);
    await renderedRows();
    await user.type(screen.getByRole("searchbox", { name: "Search devices" }), "zzz");
    expect(await screen.findByText("No devices match “zzz”")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Clear search" }));
    await waitFor(() => expect(screen.getByRole("status", { name: "Device count" }).textContent).toBe("5 devices"));
  });

  it("shows the error with its hint and retries", async () => {
    const user = userEvent.setup();
    let fail = true;
    const fleet = fakeFleet(3);
    mockCommands({
      list_devices: (args) => {
        if (fail) throw { code: "internal", message: "The local database is locked.", hint: "Close otactl and retry." };
        return fleet(args.query as DeviceQuery);
      },
      list_accounts: () => [],
    });
    renderWithQueries(<DevicesView />);
    expect(await screen.findByText("The local database is locked.")).toBeTruthy();
    expect(screen.getByText("Close otactl and retry.")).toBeTruthy();
    fail = false;
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect((await renderedRows()).length).toBe(3);
  });

  it("sorts by a column header and says so with aria-sort", async () => {
    const user = userEvent.setup();
    setup(10);
    await renderedRows();
    await user.click(screen.getByRole("button", { name: /Battery/ }));
    await waitFor(() => expect(callsOf("list_devices").some((a) => (a.query as DeviceQuery).sort === "battery")).toBe(true));
    const header = screen.getByRole("columnheader", { name: /Battery/ });
    expect(header.getAttribute("aria-sort")).toBe("ascending");
    // Enter on a header button sorts; it does not open a row.
    screen.getByRole("button", { name: /Battery/ }).focus();
    await user.keyboard("{Enter}");
    await waitFor(() => expect(header.getAttribute("aria-sort")).toBe("descending"));
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});

describe("device count", () => {
  it("says how many devices match, exactly when the store counted them all", async () => {
    const user = userEvent.setup();
    setup(250);
    await renderedRows();
    const count = screen.getByRole("status", { name: "Device count" });
    expect(count.textContent).toBe("250 devices");
    await user.type(screen.getByRole("searchbox"), "Camera 1");
    await waitFor(() => expect(count.textContent).toBe("111 of 250 devices"));
  });

  it("says \"at least\" past the store's count cap, and the table still scrolls to the last match", async () => {
    const user = userEvent.setup();
    setup(350, 120);
    await renderedRows();
    const count = screen.getByRole("status", { name: "Device count" });
    expect(count.textContent).toBe("350 devices");
    await user.type(screen.getByRole("searchbox"), "Camera");
    await waitFor(() => expect(count.textContent).toBe("120+ of 350 devices"));
    const grid = screen.getByRole("grid", { name: "Devices" });
    expect(grid.getAttribute("aria-rowcount")).toBe("-1");
    act(() => grid.focus());
    // End goes as far as is known; each press loads the next page, until a short one ends the list.
    for (let press = 0; press < 6 && grid.getAttribute("aria-activedescendant") !== "device-row-349"; press += 1) {
      await user.keyboard("{End}");
      // The active row's page came in, or it said the list ends before that row.
      await waitFor(() => {
        const active = grid.getAttribute("aria-activedescendant");
        expect(active === null || document.getElementById(active)?.hasAttribute("data-device-id")).toBe(true);
      });
    }
    expect(grid.getAttribute("aria-activedescendant")).toBe("device-row-349");
    expect(document.getElementById("device-row-349")?.getAttribute("data-device-id")).toBe("SN000349");
    // The count stays what the store said; the table knows where the list ends.
    expect(count.textContent).toBe("120+ of 350 devices");
  });
});

describe("keyboard", () => {
  it("moves the active row with the arrows and opens details with Enter; Escape returns to the grid", async () => {
    const user = userEvent.setup();
    const grid = await focusedGrid();
    expect(grid.getAttribute("aria-activedescendant")).toBe("device-row-0");

    await user.keyboard("{ArrowDown}");
    expect(grid.getAttribute("aria-activedescendant")).toBe("device-row-1");
    const active = document.getElementById("device-row-1")!;
    expect(active.getAttribute("aria-selected")).toBe("true");
    expect(active.getAttribute("data-device-id")).toBe("SN000001");

    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowUp}");
    expect(grid.getAttribute("aria-activedescendant")).toBe("device-row-2");
    await user.keyboard("{Home}");
    expect(grid.getAttribute("aria-activedescendant")).toBe("device-row-0");
    await user.keyboard("{ArrowDown}");

    await user.keyboard("{Enter}");
    const panel = await screen.findByRole("dialog", { name: "Camera 1" });
    expect(within(panel).getByText("SN000001")).toBeTruthy();
    expect(within(panel).getByText("Sandbox Vicohome")).toBeTruthy();
    expect(within(panel).getByRole("button", { name: "Update firmware" })).toBeTruthy();

    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(document.activeElement).toBe(grid);
  });

  it("End jumps to the last row, loading its page on demand", async () => {
    const user = userEvent.setup();
    const grid = await focusedGrid();
    await user.keyboard("{End}");
    expect(grid.getAttribute("aria-activedescendant")).toBe("device-row-249");
    await waitFor(() => expect(document.getElementById("device-row-249")?.getAttribute("data-device-id")).toBe("SN000249"));
    expect(callsOf("list_devices").some((a) => (a.query as DeviceQuery).offset === 200)).toBe(true);
  });
});

describe("device details", () => {
  it("shows the open device as the device data has it now, not as it was when opened", async () => {
    const user = userEvent.setup();
    let firmware = "1.2.0";
    const camera = () => makeDevice(3, { name: "Porch", firmware, newestFirmware: "1.3.0" });
    const page = (query: DeviceQuery) => {
      const rows = [makeDevice(1), camera()].filter(
        (d) => !query.search || d.id.includes(query.search) || d.name.includes(query.search),
      );
      return { matching: rows.length, matchingAtLeast: false, total: 2, offset: query.offset, rows: rows.slice(query.offset, query.offset + query.limit) };
    };
    mockCommands({
      list_devices: (args) => page(args.query as DeviceQuery),
      list_accounts: () => [],
      list_jobs: () => [],
      // Rust's store moves with the device list.
      vicohome_update_plan: (args) => {
        const [camera] = args.devices as [DeviceKey];
        return firmware === "1.3.0"
          ? { toStart: [], leftOut: [{ camera, name: "Porch", reason: { kind: "up_to_date", version: firmware } }] }
          : { toStart: [camera], leftOut: [] };
      },
    });
    const { queryClient } = renderWithQueries(<DevicesView />);
    await renderedRows();
    await user.click(screen.getByText("Porch"));
    const panel = await screen.findByRole("dialog", { name: "Porch" });
    const firmwareField = () => within(panel).getByText("Firmware", { selector: "dt" }).nextElementSibling?.textContent;
    expect(firmwareField()).toBe("1.2.0");
    expect(within(panel).getByRole("button", { name: "Update firmware" })).toBeTruthy();

    // The update finished: the store has the new firmware and the Rust side says "devices changed".
    firmware = "1.3.0";
    await act(() => queryClient.invalidateQueries({ queryKey: ["devices"] }));
    await waitFor(() => expect(firmwareField()).toBe("1.3.0"));
    await waitFor(() => expect(within(panel).getByRole("status").textContent).toContain("Up to date: 1.3.0"));
    expect(within(panel).queryByRole("button", { name: "Update firmware" })).toBeNull();
  });

  it("narrows the list to a cohort or a tag chosen in the toolbar, and back", async () => {
    const fleet = fakeFleet(30);
    mockCommands({
      list_devices: (args) => fleet(args.query as DeviceQuery),
      list_accounts: () => [],
      list_cohorts: () => [{ id: 7, name: "Pilot homes", kind: "static", deviceCount: 3, createdAt: 0, createdBy: "ana", query: null }],
      list_tags: () => [{ tag: "pilot", count: 4 }],
    });
    renderWithQueries(<DevicesView />);
    await renderedRows();
    const user = userEvent.setup();
    const group = screen.getByRole("combobox", { name: "Cohort or tag" });
    await screen.findByRole("option", { name: "Pilot homes (3)" });
    await user.selectOptions(group, "cohort:7");
    await waitFor(() => expect(callsOf("list_devices").some((a) => (a.query as DeviceQuery).cohortId === 7)).toBe(true));
    await user.selectOptions(group, "tag:pilot");
    const count = screen.getByRole("status", { name: "Device count" });
    await waitFor(() => expect(count.textContent).toBe("6 of 30 devices"));
    await user.selectOptions(group, "");
    await waitFor(() => expect(count.textContent).toBe("30 devices"));
    expect((await renderedRows()).length).toBeGreaterThan(6);
  });
});
