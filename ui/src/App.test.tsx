import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { App } from "./App";
import type { DataChanged } from "./bindings/DataChanged";
import type { DeviceQuery } from "./bindings/DeviceQuery";
import type { FleetFreshness } from "./bindings/FleetFreshness";
import { fakeFleet, makeJob } from "./test/fixtures";
import { renderWithQueries } from "./test/render";
import { callsOf, mockCommands } from "./test/tauri";

const CACHED: FleetFreshness = { live: false, oldestRefresh: null, accounts: [] };
const LIVE: FleetFreshness = { live: true, oldestRefresh: Date.now(), accounts: [] };

function setup() {
  let freshness = CACHED;
  const fleet = fakeFleet(30);
  let releaseRefresh: () => void = () => {};
  mockCommands({
    app_info: () => ({ version: "0.1.0", dataDir: "/tmp/ota", sandbox: true, simUrl: "http://127.0.0.1:4000" }),
    list_devices: (args) => fleet(args.query as DeviceQuery),
    fleet_freshness: () => freshness,
    list_accounts: () => [],
    list_jobs: () => [makeJob()],
    refresh_fleet: () =>
      new Promise<FleetFreshness>((resolve) => {
        releaseRefresh = () => {
          freshness = LIVE;
          resolve(LIVE);
        };
      }),
  });
  let emit: (change: DataChanged) => void = () => {};
  vi.mocked(listen).mockImplementation(async (event, handler) => {
    if (event === "data-changed") emit = (payload) => handler({ event: "data-changed", id: 1, payload } as never);
    return () => {};
  });
  renderWithQueries(<App />);
  return { release: () => act(() => releaseRefresh()), emit: (c: DataChanged) => act(() => emit(c)) };
}

describe("app", () => {
  it("paints the cached list, then refreshes once and turns Live", async () => {
    const app = setup();
    const status = screen.getByRole("status", { name: "Fleet freshness" });
    await waitFor(() => expect(status.textContent).toBe("Cached · never refreshed"));
    expect(screen.getByText("Sandbox")).toBeTruthy();
    await waitFor(() => expect(callsOf("refresh_fleet").length).toBe(1));
    // The cache painted before the refresh was asked for.
    const commands = vi.mocked(invoke).mock.calls.map(([command]) => command);
    expect(commands.indexOf("list_devices")).toBeLessThan(commands.indexOf("refresh_fleet"));
    const button = screen.getByRole("button", { name: "Refresh devices" });
    expect(button.getAttribute("aria-busy")).toBe("true");

    app.release();
    await waitFor(() => expect(status.textContent).toBe("Live · updated just now"));
    expect(button.getAttribute("aria-busy")).toBe("false");
  });

  it("refreshes on the button and refetches what a data-changed notice names", async () => {
    const user = userEvent.setup();
    const app = setup();
    await waitFor(() => expect(callsOf("refresh_fleet").length).toBe(1));
    app.release();
    const button = screen.getByRole("button", { name: "Refresh devices" });
    await waitFor(() => expect(button.getAttribute("aria-busy")).toBe("false"));

    await user.click(button);
    await waitFor(() => expect(callsOf("refresh_fleet").length).toBe(2));
    app.release();

    await user.click(screen.getByRole("button", { name: "Jobs" }));
    await screen.findByRole("progressbar");
    const before = callsOf("list_jobs").length;
    app.emit({ kinds: ["jobs"] });
    await waitFor(() => expect(callsOf("list_jobs").length).toBe(before + 1));
  });

  it("switches views from the nav", async () => {
    const user = userEvent.setup();
    setup();
    expect(screen.getByRole("grid", { name: "Devices" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Settings" }));
    expect(await screen.findByRole("heading", { name: "Add account" })).toBeTruthy();
    expect(await screen.findByText("/tmp/ota")).toBeTruthy();
    expect(screen.queryByRole("grid")).toBeNull();
    expect(screen.getByRole("button", { name: "Settings" }).getAttribute("aria-current")).toBe("page");
  });
});
