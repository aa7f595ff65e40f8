import { QueryClientProvider } from "@tanstack/react-query";
import type { Channel } from "@tauri-apps/api/core";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { CameraUpdatePlan } from "../bindings/CameraUpdatePlan";
import type { DeviceKey } from "../bindings/DeviceKey";
import type { JobView } from "../bindings/JobView";
import { makeDevice, makeJob } from "../test/fixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { DeviceDetail } from "./DeviceDetail";
import { expectAlertSaying } from "../test/alerts";

/** Rust's answer for the one camera asked about: up to date on `version`, or to be started (null). */
function planSaying(version: () => string | null) {
  return (args: Record<string, unknown>): CameraUpdatePlan => {
    const [camera] = args.devices as [DeviceKey];
    const upToDate = version();
    return upToDate === null
      ? { toStart: [camera], leftOut: [] }
      : { toStart: [], leftOut: [{ camera, name: "Camera 1", reason: { kind: "up_to_date", version: upToDate } }] };
  };
}

describe("device details", () => {
  it("starts a camera update and follows its progress channel", async () => {
    const user = userEvent.setup();
    const starting = makeJob({ state: "starting", phase: "starting", percent: 0, transferred: 0, total: 0, updatedAt: 1 });
    mockCommands({ start_vicohome_update: () => starting });
    renderWithQueries(<DeviceDetail device={makeDevice(1)} onClose={() => {}} />);

    await user.click(screen.getByRole("button", { name: "Update firmware" }));
    await waitFor(() => expect(callsOf("start_vicohome_update").length).toBe(1));
    const args = callsOf("start_vicohome_update")[0]!;
    expect(args.accountId).toBe(1);
    expect(args.serial).toBe("SN000001");
    const channel = args.onProgress as Channel<JobView>;

    act(() => channel.onmessage(makeJob({ percent: 37, updatedAt: 2 })));
    const progress = screen.getByRole("group", { name: "Update progress" });
    expect(within(progress).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("37");
    expect(progress.textContent).toContain("6.3 / 15.0 MiB");
    expect(screen.getByRole("button", { name: "Update firmware" }).getAttribute("aria-disabled")).toBe("true");

    act(() =>
      channel.onmessage(
        makeJob({ state: "succeeded", phase: "complete", percent: 100, transferred: 15_728_640, updatedAt: 3 }),
      ),
    );
    expect(within(progress).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    expect(progress.textContent).toContain("Complete");
  });

  it("shows an update already running for this camera and does not offer a second one", async () => {
    mockCommands({ list_jobs: () => [makeJob({ deviceId: "SN000001", percent: 52 }), makeJob({ id: 2, deviceId: "SN999" })] });
    renderWithQueries(<DeviceDetail device={makeDevice(1)} onClose={() => {}} />);
    const progress = await screen.findByRole("group", { name: "Update progress" });
    expect(within(progress).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("52");
    expect(screen.getByRole("button", { name: "Update firmware" }).getAttribute("aria-disabled")).toBe("true");
  });

  it("keeps the keyboard focus on Update firmware while it runs, so Escape still closes and Enter starts no second one", async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    mockCommands({ start_vicohome_update: () => makeJob({ state: "running", percent: 5, updatedAt: 1 }) });
    renderWithQueries(<DeviceDetail device={makeDevice(1)} onClose={onClose} />);
    const button = screen.getByRole("button", { name: "Update firmware" });

    await user.tab();
    expect(document.activeElement).toBe(button);
    await user.keyboard("{Enter}");
    await screen.findByRole("group", { name: "Update progress" });
    expect(button.getAttribute("aria-disabled")).toBe("true");
    // Not `disabled`: a browser moves the focus off a disabled button (jsdom does not, so check the property).
    expect((button as HTMLButtonElement).disabled).toBe(false);
    expect(document.activeElement).toBe(button);

    await user.keyboard("{Enter}");
    await user.keyboard(" ");
    expect(callsOf("start_vicohome_update").length).toBe(1);
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledOnce();
  });

  it("explains why an update could not start", async () => {
    const user = userEvent.setup();
    mockCommands({
      start_vicohome_update: () => {
        throw { code: "conflict", message: "An update is already running on this camera.", hint: "Follow it in Jobs." };
      },
    });
    renderWithQueries(<DeviceDetail device={makeDevice(1)} onClose={() => {}} />);
    await user.click(screen.getByRole("button", { name: "Update firmware" }));
    await expectAlertSaying(["An update is already running on this camera.", "Follow it in Jobs."]);
  });

  it("says a camera Rust finds on the newest firmware is up to date instead of offering the update", async () => {
    mockCommands({ vicohome_update_plan: planSaying(() => "1.3.0") });
    renderWithQueries(
      <DeviceDetail device={makeDevice(1, { firmware: "1.3.0", newestFirmware: "1.3.0" })} onClose={() => {}} />,
    );
    const update = screen.getByRole("region", { name: "Update firmware" });
    expect((await within(update).findByRole("status")).textContent).toBe(
      "Up to date: 1.3.0 is the newest firmware this camera is offered.",
    );
    expect(within(update).queryByRole("button", { name: "Update firmware" })).toBeNull();
    expect(callsOf("vicohome_update_plan")[0]!.devices).toEqual([{ accountId: 1, deviceId: "SN000001" }]);
  });

  it("offers the update when Rust says the camera gets one", async () => {
    mockCommands({ vicohome_update_plan: planSaying(() => null) });
    renderWithQueries(<DeviceDetail device={makeDevice(1, { newestFirmware: null })} onClose={() => {}} />);
    await waitFor(() => expect(callsOf("vicohome_update_plan").length).toBe(1));
    expect(screen.getByRole("button", { name: "Update firmware" })).toBeTruthy();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("turns the focused button into the up-to-date note when the update lands, keeping Escape working", async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    let upToDate: string | null = null;
    mockCommands({
      vicohome_update_plan: planSaying(() => upToDate),
      start_vicohome_update: () =>
        makeJob({ state: "succeeded", phase: "complete", percent: 100, transferred: 15_728_640, updatedAt: 1 }),
    });
    const before = makeDevice(1, { firmware: "1.2.0", newestFirmware: "1.3.0" });
    const view = renderWithQueries(<DeviceDetail device={before} onClose={onClose} />);
    await user.click(screen.getByRole("button", { name: "Update firmware" }));
    await screen.findByRole("group", { name: "Update progress" });

    // The device list now has the camera on the new firmware, and so has Rust's store.
    upToDate = "1.3.0";
    view.rerender(
      <QueryClientProvider client={view.queryClient}>
        <DeviceDetail device={{ ...before, firmware: "1.3.0" }} onClose={onClose} />
      </QueryClientProvider>,
    );
    const note = await screen.findByText("Up to date: 1.3.0 is the newest firmware this camera is offered.");
    expect(screen.queryByRole("button", { name: "Update firmware" })).toBeNull();
    expect(document.activeElement).toBe(note);
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledOnce();
  });

  it("offers no update for other clouds, and closes with Escape", async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    renderWithQueries(
      <DeviceDetail device={makeDevice(2, { cloud: "quectel", transport: "ble", productKey: "pk1" })} onClose={onClose} />,
    );
    const panel = screen.getByRole("dialog", { name: "Camera 2" });
    expect(within(panel).queryByRole("button", { name: "Update firmware" })).toBeNull();
    expect(panel.textContent).toContain("BLE");
    expect(document.activeElement).toBe(within(panel).getByRole("button", { name: "Close" }));
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledOnce();
  });
});
