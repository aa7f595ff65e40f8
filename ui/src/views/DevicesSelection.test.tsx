import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { CameraUpdateEvent } from "../bindings/CameraUpdateEvent";
import type { Device } from "../bindings/Device";
import type { DeviceKey } from "../bindings/DeviceKey";
import type { DeviceQuery } from "../bindings/DeviceQuery";
import type { LeftOutReason } from "../bindings/LeftOutReason";
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

/** What Rust says of each device it leaves out (by serial); the others are started. */
type LeftOut = Record<string, LeftOutReason>;
const ONENET_LEFT_OUT: LeftOut = { "527776559": { kind: "other_cloud", cloud: "onenet" } };

/** How Rust's start of one camera ends: its job, or a thrown ApiError for a refusal. */
type StartOne = (serial: string) => ReturnType<typeof makeJob>;

function setup(
  leftOut: LeftOut = ONENET_LEFT_OUT,
  startOne: StartOne = (serial) => makeJob({ deviceId: serial, state: "starting", phase: "starting", percent: 0 }),
) {
  const nameOf = (key: DeviceKey) => FLEET.find((d) => d.id === key.deviceId)?.name ?? key.deviceId;
  const plan = (devices: DeviceKey[]) => ({
    toStart: devices.filter((key) => !leftOut[key.deviceId]),
    leftOut: devices.flatMap((key) => {
      const reason = leftOut[key.deviceId];
      return reason ? [{ camera: key, name: nameOf(key), reason }] : [];
    }),
  });
  mockCommands({
    list_devices: (args) => {
      const query = args.query as DeviceQuery;
      const rows = FLEET.filter((d) => query.cloud === undefined || d.cloud === query.cloud);
      return { matching: rows.length, matchingAtLeast: false, total: FLEET.length, offset: query.offset, rows: rows.slice(query.offset, query.offset + query.limit) };
    },
    list_accounts: () => [],
    list_jobs: () => [],
    vicohome_update_plan: (args) => plan(args.devices as DeviceKey[]),
    // Rust's stream, a moment after the call, as the channel would deliver it.
    start_vicohome_updates: (args) => {
      const send = (args.onEvent as { onmessage: (event: CameraUpdateEvent) => void }).onmessage;
      const { toStart, leftOut: out } = plan(args.devices as DeviceKey[]);
      setTimeout(() => {
        for (const camera of out) send({ kind: "left_out", ...camera });
        for (const camera of toStart) {
          send({ kind: "starting", camera });
          try {
            send({ kind: "started", camera, job: startOne(camera.deviceId) });
          } catch (error) {
            send({ kind: "refused", camera, error: error as never });
          }
        }
        send({ kind: "settled" });
      }, 0);
      return null;
    },
  });
  return renderWithQueries(<DevicesView />);
}

describe("selecting devices", () => {
  it("updates every selected camera once and skips a OneNET device with the reason", async () => {
    const user = userEvent.setup();
    setup(ONENET_LEFT_OUT, (serial) => {
      if (serial === "SN000001") {
        throw { code: "device", message: "The camera's battery is too low.", hint: "Charge it above 20 % and retry." };
      }
      return makeJob({ deviceId: serial, state: "running", phase: "downloading", percent: 5 });
    });
    await user.click(await screen.findByRole("checkbox", { name: "Select Front door" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Garage" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Pump 1" }));
    // Ticking a box does not open the row.
    expect(screen.queryByRole("dialog")).toBeNull();

    const bar = screen.getByRole("region", { name: "Selection" });
    expect(within(bar).getByText("3 selected")).toBeTruthy();
    const skipped = await within(bar).findByRole("list", { name: "Skipped" });
    await waitFor(() =>
      expect(skipped.textContent).toContain("Pump 1 (OneNET): only Vicohome cameras can be updated from the console."),
    );

    await user.click(await within(bar).findByRole("button", { name: "Update 2 cameras" }));
    // Nothing starts before the confirmation, which says how many and that each is started once.
    const question = screen.getByRole("alertdialog", { name: "Update 2 cameras?" });
    expect(question.textContent).toContain("Each of the 2 cameras is started once");
    expect(callsOf("start_vicohome_updates")).toEqual([]);
    await user.click(within(question).getByRole("button", { name: "Start 2 updates" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    const results = await within(bar).findByRole("list", { name: "Update results" });
    await waitFor(() => expect(results.textContent).toContain("Started"));
    await waitFor(() => expect(results.textContent).toContain("The camera's battery is too low."));

    // One call: Rust starts each camera; the OneNET device is not even asked for.
    expect(callsOf("start_vicohome_updates").map((a) => a.devices)).toEqual([
      [
        { accountId: 1, deviceId: "SN000000" },
        { accountId: 1, deviceId: "SN000001" },
      ],
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
    await waitFor(() => expect(screen.getByRole("button", { name: "Update 1 camera" })).toHaveProperty("disabled", false));
    // Space ticks; it does not open the details.
    expect(screen.queryByRole("dialog")).toBeNull();
    await user.keyboard("[Space]");
    expect(screen.queryByRole("region", { name: "Selection" })).toBeNull();

    const all = screen.getByRole<HTMLInputElement>("checkbox", { name: "Select all shown" });
    await user.click(all);
    await waitFor(() => expect(screen.getByText("4 selected")).toBeTruthy());
    expect(all.checked).toBe(true);
    expect(await screen.findByRole("button", { name: "Update 3 cameras" })).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Clear selection" }));
    expect(screen.queryByText(/selected$/)).toBeNull();
    expect(all.checked).toBe(false);
    expect(callsOf("start_vicohome_updates")).toEqual([]);
  });

  it("leaves out the cameras Rust says are already on the newest firmware and says so; Cancel starts nothing", async () => {
    const user = userEvent.setup();
    setup({ ...ONENET_LEFT_OUT, SN000001: { kind: "up_to_date", version: "1.3.0" } });
    await user.click(await screen.findByRole("checkbox", { name: "Select Front door" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Garage" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Backyard" }));
    const bar = screen.getByRole("region", { name: "Selection" });
    await waitFor(() =>
      expect(within(bar).getByRole("list", { name: "Skipped" }).textContent).toContain(
        "Garage: already on the newest firmware (1.3.0).",
      ),
    );

    await user.click(await within(bar).findByRole("button", { name: "Update 2 cameras" }));
    const question = screen.getByRole("alertdialog", { name: "Update 2 cameras?" });
    expect(question.textContent).toContain("1 selected camera already on the newest firmware is left out.");
    // The safe choice has the focus.
    expect(document.activeElement).toBe(within(question).getByRole("button", { name: "Cancel" }));
    await user.keyboard("{Enter}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(callsOf("start_vicohome_updates")).toEqual([]);

    await user.click(within(bar).getByRole("button", { name: "Update 2 cameras" }));
    await user.click(screen.getByRole("button", { name: "Start 2 updates" }));
    await waitFor(() => expect(callsOf("start_vicohome_updates").length).toBe(1));
    expect(callsOf("start_vicohome_updates")[0]!.devices).toEqual([
      { accountId: 1, deviceId: "SN000000" },
      { accountId: 1, deviceId: "SN000002" },
    ]);
    const results = await within(bar).findByRole("list", { name: "Update results" });
    await waitFor(() => expect(results.textContent?.split("Started").length).toBe(3));
    expect(within(bar).getByRole("button", { name: "Dismiss results" })).toBeTruthy();
  });

  it("shows a camera Rust left out at the start (it changed since the question) with why", async () => {
    const user = userEvent.setup();
    const leftOut: LeftOut = { ...ONENET_LEFT_OUT };
    setup(leftOut);
    await user.click(await screen.findByRole("checkbox", { name: "Select Front door" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Garage" }));
    const bar = screen.getByRole("region", { name: "Selection" });
    await user.click(await within(bar).findByRole("button", { name: "Update 2 cameras" }));
    // Another window or otactl finished Garage's update in the meantime.
    leftOut.SN000001 = { kind: "up_to_date", version: "1.3.0" };
    await user.click(screen.getByRole("button", { name: "Start 2 updates" }));
    const results = await within(bar).findByRole("list", { name: "Update results" });
    await waitFor(() => expect(results.textContent).toContain("Garage: already on the newest firmware (1.3.0)."));
    const [front] = within(results).getAllByRole("listitem");
    expect(front!.textContent).toContain("Started");
  });

  it("offers no update when only other clouds are selected", async () => {
    const user = userEvent.setup();
    setup();
    await user.click(await screen.findByRole("checkbox", { name: "Select Pump 1" }));
    expect(screen.getByRole("button", { name: "Update 0 cameras" })).toHaveProperty("disabled", true);
    await waitFor(() => expect(callsOf("vicohome_update_plan").length).toBeGreaterThan(0));
    expect(screen.getByRole("button", { name: "Update 0 cameras" })).toHaveProperty("disabled", true);
  });
});
