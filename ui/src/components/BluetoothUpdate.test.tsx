import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { QuectelBleProgress } from "../bindings/QuectelBleProgress";
import type { QuectelBleStatus } from "../bindings/QuectelBleStatus";
import { makePlanRow } from "../test/quectelFixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { BluetoothUpdate } from "./BluetoothUpdate";
import { expectAlertSaying } from "../test/alerts";

const STATUSES: QuectelBleStatus[] = [
  { code: 0, name: "confirmed", meaning: "the user confirmed the upgrade", failure: false, outcome: false },
  { code: 2, name: "downloaded", meaning: "the package is downloaded and its SHA-256 verified", failure: false, outcome: false },
  { code: 4, name: "succeeded", meaning: "the device runs the new firmware", failure: false, outcome: true },
  { code: 6, name: "failed-checksum", meaning: "failed: the package's SHA-256 did not match fileSign", failure: true, outcome: true },
  { code: 9, name: "failed-disconnected", meaning: "failed: the Bluetooth connection dropped", failure: true, outcome: true },
];

const PLAN = {
  deviceKey: "DK0001",
  planId: 7_310_000_001,
  targetVersion: "9.9.9",
  componentNo: "0",
  description: "Spring update: firmware 9.9.9",
  fileName: "Spring_update_9.9.9.bin",
  fileSize: 49_152,
  fileSign: "ab".repeat(32),
};

function statusOf(code: number) {
  return STATUSES.find((s) => s.code === code)!;
}

function setup(reportAnswer?: (code: number) => unknown) {
  const onReported = vi.fn();
  mockCommands({
    quectel_ble_statuses: () => STATUSES,
    quectel_ble_fetch: () => PLAN,
    quectel_ble_report: (args) => {
      const code = Number(args.code);
      if (reportAnswer) return reportAnswer(code);
      const status = statusOf(code);
      return { deviceKey: "DK0001", status, message: `Quectel recorded ${code} (${status.name}): ${status.meaning}.` };
    },
    quectel_ble_download: (args) => {
      const channel = args.onProgress as { onmessage: (p: QuectelBleProgress) => void };
      channel.onmessage({ deviceKey: "DK0001", phase: "downloading", received: 0, total: 49_152, percent: 0 });
      channel.onmessage({ deviceKey: "DK0001", phase: "downloading", received: 24_576, total: 49_152, percent: 50 });
      channel.onmessage({ deviceKey: "DK0001", phase: "done", received: 49_152, total: 49_152, percent: 100 });
      return { deviceKey: "DK0001", path: "/data/downloads/quectel/DK0001/Spring_update_9.9.9.bin", size: 49_152, sha256: PLAN.fileSign };
    },
  });
  const row = makePlanRow(1, { bluetooth: true, actions: { confirm: false, appoint: false, cancel: false, retry: false } });
  renderWithQueries(<BluetoothUpdate row={row} onClose={() => {}} onReported={onReported} />);
  return { onReported };
}

describe("Bluetooth update", () => {
  it("fetches the plan, confirms it, downloads with progress and reports the outcome in words", async () => {
    const user = userEvent.setup();
    const { onReported } = setup();
    const panel = screen.getByRole("dialog", { name: "Bluetooth update · Meter 1" });
    // Each step waits for the one before.
    expect((within(panel).getByRole("button", { name: "Confirm upgrade" }) as HTMLButtonElement).disabled).toBe(true);
    expect((within(panel).getByRole("button", { name: "Download package" }) as HTMLButtonElement).disabled).toBe(true);

    await user.click(within(panel).getByRole("button", { name: "Fetch plan" }));
    const facts = await within(panel).findByLabelText("Bluetooth plan");
    expect(facts.textContent).toContain("9.9.9");
    expect(facts.textContent).toContain("48.0 KiB");
    expect(facts.textContent).toContain(PLAN.fileSign);

    await user.click(within(panel).getByRole("button", { name: "Confirm upgrade" }));
    await waitFor(() => expect(panel.textContent).toContain("Quectel recorded 0 (confirmed): the user confirmed the upgrade."));
    expect(callsOf("quectel_ble_report")[0]).toEqual({ deviceKey: "DK0001", code: 0, componentNo: "0" });

    await user.click(within(panel).getByRole("button", { name: "Download package" }));
    const progress = await within(panel).findByRole("group", { name: "Package download" });
    await waitFor(() => expect(progress.textContent).toContain("Downloaded, SHA-256 verified"));
    expect(progress.textContent).toContain("48.0 KiB / 48.0 KiB · 100 %");
    expect(within(progress).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    expect(panel.textContent).toContain("Saved to /data/downloads/quectel/DK0001/Spring_update_9.9.9.bin");

    // Outcomes only: success first, then every failure code of the table.
    const outcome = within(panel).getByLabelText("Outcome") as HTMLSelectElement;
    expect(Array.from(outcome.options).map((o) => o.value)).toEqual(["4", "6", "9"]);
    await user.selectOptions(outcome, "9");
    await user.click(within(panel).getByRole("button", { name: "Report outcome" }));
    const answer = await within(panel).findByRole("status", { name: "Quectel's answer" });
    expect(answer.textContent).toBe("Quectel recorded 9 (failed-disconnected): failed: the Bluetooth connection dropped.");
    expect(answer.className).toContain("warn-text");
    expect(callsOf("quectel_ble_report")[1]).toMatchObject({ code: 9 });
    // Confirm, download and report each moved the plan: the row is refreshed.
    expect(onReported).toHaveBeenCalledTimes(3);
  });

  it("says when there is no plan", async () => {
    const user = userEvent.setup();
    setup();
    mockCommands({ quectel_ble_statuses: () => STATUSES, quectel_ble_fetch: () => null });
    const panel = screen.getByRole("dialog");
    await user.click(within(panel).getByRole("button", { name: "Fetch plan" }));
    expect(await within(panel).findByText("Quectel has no open Bluetooth plan for this device.")).toBeTruthy();
    expect((within(panel).getByRole("button", { name: "Confirm upgrade" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows a refused report with its next step, and does not move on", async () => {
    const user = userEvent.setup();
    const { onReported } = setup(() => {
      throw { code: "auth", message: "The Quectel session expired.", hint: "Sign in again in Settings." };
    });
    const panel = screen.getByRole("dialog");
    await user.click(within(panel).getByRole("button", { name: "Fetch plan" }));
    await within(panel).findByLabelText("Bluetooth plan");
    await user.click(within(panel).getByRole("button", { name: "Confirm upgrade" }));
    await expectAlertSaying(["The Quectel session expired.", "Sign in again in Settings."], panel);
    expect((within(panel).getByRole("button", { name: "Download package" }) as HTMLButtonElement).disabled).toBe(true);
    expect(onReported).not.toHaveBeenCalled();
  });
});
