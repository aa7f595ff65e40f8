import type { Channel } from "@tauri-apps/api/core";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { OnenetDownloadProgress } from "../bindings/OnenetDownloadProgress";
import type { OnenetFetchEnd } from "../bindings/OnenetFetchEnd";
import type { OnenetTask } from "../bindings/OnenetTask";
import { makeDevice } from "../test/fixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { DeviceDetail } from "./DeviceDetail";
import { expectAlertSaying } from "../test/alerts";

const device = makeDevice(7, { cloud: "onenet", id: "527776559", name: "Pump 7", model: "10201", manufacturer: "102" });

const task: OnenetTask = {
  devId: "527776559",
  targetVersion: "V2",
  token: "ota_iF0hnXrq2CxLrP8vZ39l",
  size: 64 * 1024 * 1024,
  md5: "ad2f4e4ea2a27eace7e4913139f8f01a",
  minSignal: 10,
  minPower: 50,
  retry: 2,
  intervalSecs: 5,
  package: "full",
  taskType: "application",
};

const codes = [
  { code: 101, stage: "download", success: true, meaning: "Package downloaded" },
  { code: 106, stage: "download", success: false, meaning: "Download failed: signal too weak" },
  { code: 201, stage: "upgrade", success: true, meaning: "Upgrade succeeded" },
  { code: 205, stage: "upgrade", success: false, meaning: "Upgrade failed: MD5 check failed" },
];

function progress(received: number, phase: OnenetDownloadProgress["phase"] = "downloading"): OnenetDownloadProgress {
  return { received, total: task.size, resumedFrom: 0, bytesPerSec: 8 * 1024 * 1024, etaSecs: 4, phase };
}

describe("OneNET update panel", () => {
  it("checks, shows the task's conditions, downloads with live bytes, rate and ETA, then reports 201", async () => {
    const user = userEvent.setup();
    let finish: (end: OnenetFetchEnd) => void = () => {};
    mockCommands({
      onenet_result_codes: () => codes,
      onenet_check: () => ({ task, savedBytes: 0, downloadPath: "/data/downloads/fw.bin" }),
      onenet_fetch: () => new Promise<OnenetFetchEnd>((resolve) => (finish = resolve)),
      onenet_report: (args) => ({ code: args.code, accepted: true, message: `OneNET recorded ${String(args.code)}: Upgrade succeeded.` }),
    });
    renderWithQueries(<DeviceDetail device={device} onClose={() => {}} />);
    const panel = screen.getByRole("region", { name: "OneNET update" });

    await user.click(within(panel).getByRole("button", { name: "Check for update" }));
    await waitFor(() => expect(callsOf("onenet_check")[0]).toEqual({ devId: "527776559", taskType: "application" }));
    await within(panel).findByText("V2");
    expect(panel.textContent).toContain("V2");
    expect(panel.textContent).toContain("64.0 MiB");
    expect(panel.textContent).toContain("ad2f4e4ea2a27eace7e4913139f8f01a");
    expect(panel.textContent).toContain("50 %");
    expect(panel.textContent).toContain("2 times, 5 s apart");

    await user.click(within(panel).getByRole("button", { name: "Download package" }));
    await waitFor(() => expect(callsOf("onenet_fetch").length).toBe(1));
    const fetchArgs = callsOf("onenet_fetch")[0]!;
    // The window names the device; the task (token, size, MD5) is what the core checked and kept.
    expect(Object.keys(fetchArgs).sort()).toEqual(["devId", "onProgress", "taskType"]);
    expect(fetchArgs).toMatchObject({ devId: "527776559", taskType: "application" });
    const channel = fetchArgs.onProgress as Channel<OnenetDownloadProgress>;
    act(() => channel.onmessage(progress(32 * 1024 * 1024)));
    const group = within(panel).getByRole("group", { name: "Download progress" });
    expect(within(group).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("50");
    expect(group.textContent).toContain("32.0 MiB / 64.0 MiB");
    expect(group.textContent).toContain("8.0 MiB/s");
    expect(group.textContent).toContain("4 s left");
    expect(within(panel).getByRole("button", { name: "Pause download" })).toBeTruthy();

    const outcome = {
      path: "/data/downloads/fw.bin",
      size: task.size,
      md5: task.md5,
      bytesTransferred: task.size,
      resumedFrom: 0,
      report: { code: 101, accepted: true, message: "OneNET recorded 101: Package downloaded." },
    };
    await act(async () => {
      channel.onmessage(progress(task.size, "done"));
      finish({ kind: "done", outcome });
    });
    expect(await within(panel).findByText("OneNET recorded 101: Package downloaded.")).toBeTruthy();
    expect(group.textContent).toContain("Downloaded and verified");

    const select = within(panel).getByRole("combobox", { name: "Result code" });
    await user.selectOptions(select, "201");
    await user.click(within(panel).getByRole("button", { name: "Send report" }));
    await waitFor(() =>
      expect(callsOf("onenet_report")[0]).toEqual({ devId: "527776559", token: task.token, code: 201 }),
    );
    expect(await within(panel).findByText("OneNET recorded 201: Upgrade succeeded.")).toBeTruthy();
  });

  it("pauses, then offers Resume with what is saved", async () => {
    const user = userEvent.setup();
    let finish: (end: OnenetFetchEnd) => void = () => {};
    mockCommands({
      onenet_result_codes: () => codes,
      onenet_check: () => ({ task, savedBytes: 0, downloadPath: null }),
      onenet_fetch: () => new Promise<OnenetFetchEnd>((resolve) => (finish = resolve)),
      onenet_pause: () => true,
    });
    renderWithQueries(<DeviceDetail device={device} onClose={() => {}} />);
    const panel = screen.getByRole("region", { name: "OneNET update" });
    await user.click(within(panel).getByRole("button", { name: "Check for update" }));
    await user.click(await within(panel).findByRole("button", { name: "Download package" }));
    await user.click(await within(panel).findByRole("button", { name: "Pause download" }));
    expect(callsOf("onenet_pause")[0]).toEqual({ devId: "527776559" });
    await act(async () => finish({ kind: "paused", progress: progress(16 * 1024 * 1024, "paused") }));
    expect(await within(panel).findByRole("button", { name: "Resume download" })).toBeTruthy();
    expect(panel.textContent).toContain("16.0 MiB already saved");
    expect(panel.textContent).toContain("Paused");
  });

  it("explains a refused report in words, with the vendor code", async () => {
    const user = userEvent.setup();
    mockCommands({
      onenet_result_codes: () => codes,
      onenet_check: () => ({ task, savedBytes: 0, downloadPath: null }),
      onenet_report: () => {
        throw { code: "conflict", message: "The update task was cancelled", hint: "Create a new task.", vendorCode: "errno 22" };
      },
    });
    renderWithQueries(<DeviceDetail device={device} onClose={() => {}} />);
    const panel = screen.getByRole("region", { name: "OneNET update" });
    await user.click(within(panel).getByRole("button", { name: "Check for update" }));
    await user.click(await within(panel).findByRole("button", { name: "Send report" }));
    await expectAlertSaying(["The update task was cancelled", "errno 22"], panel);
  });

  it("says plainly when there is no task", async () => {
    const user = userEvent.setup();
    mockCommands({ onenet_check: () => ({ task: null, savedBytes: 0, downloadPath: null }) });
    renderWithQueries(<DeviceDetail device={device} onClose={() => {}} />);
    await user.click(screen.getByRole("button", { name: "Check for update" }));
    expect(await screen.findByText("No upgrade task of this type for this device. Upgrade tasks are created in the OneNET console.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Download package" })).toBeNull();
  });
});
