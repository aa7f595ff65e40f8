import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { QuectelPlanItem } from "../bindings/QuectelPlanItem";
import type { QuectelPlanRow } from "../bindings/QuectelPlanRow";
import { isInProgress, mergeRows } from "../hooks/useQuectelPlans";
import { toLocalInput } from "../lib/appointment";
import { HOUR, makePlanRow, NOW, planList, report } from "../test/quectelFixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { PlansView } from "./PlansView";

type Handlers = Parameters<typeof mockCommands>[0];

function setup(rows: QuectelPlanRow[], handlers: Handlers = {}) {
  mockCommands({
    list_quectel_plans: (args) => (args.cached ? planList([], { live: false }) : planList(rows)),
    get_quectel_auto_upgrade: (args) => ({ deviceKey: args.deviceKey, on: false }),
    quectel_plan_details: (args) => rows.filter((r) => (args.items as QuectelPlanItem[]).some((i) => i.deviceKey === r.deviceKey)),
    ...handlers,
  });
  return renderWithQueries(<PlansView />);
}

function rowOf(deviceKey: string): HTMLElement {
  const row = document.querySelector<HTMLElement>(`[role="row"][data-device-key="${deviceKey}"]`);
  if (!row) throw new Error(`no row for ${deviceKey}`);
  return row;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("plans view", () => {
  it("lists every plan with version, period, state and the auto-upgrade read from the cloud", async () => {
    setup([
      makePlanRow(1),
      makePlanRow(2, {
        state: "upgrading",
        deviceStatus: 1,
        userConfirmStatus: 1,
        percent: 45,
        actions: { confirm: false, appoint: false, cancel: false, retry: false },
      }),
      makePlanRow(3, { bluetooth: true, actions: { confirm: false, appoint: false, cancel: false, retry: false } }),
    ]);
    const table = await screen.findByRole("table", { name: "Upgrade plans" });
    await waitFor(() => expect(within(table).getAllByRole("row").length).toBe(4));
    const first = rowOf("DK0001");
    expect(first.getAttribute("data-plan-id")).toBe("7310000001");
    expect(first.textContent).toContain("Meter 1");
    expect(first.textContent).toContain("9.9.9");
    expect(first.textContent).toContain("Spring update");
    expect(first.textContent).toContain("Waiting for confirmation");
    for (const name of ["Upgrade now: Meter 1", "Appoint a window: Meter 1", "Cancel plan: Meter 1"]) {
      expect(within(first).getByRole("button", { name })).toBeTruthy();
    }
    expect(within(first).queryByRole("button", { name: "Retry: Meter 1" })).toBeNull();
    const toggle = await within(first).findByRole("switch", { name: "Auto-upgrade for Meter 1" });
    await waitFor(() => expect(toggle.getAttribute("aria-checked")).toBe("false"));
    expect(toggle.textContent).toContain("Off");

    const upgrading = rowOf("DK0002");
    expect(upgrading.textContent).toContain("Upgrading 45 %");
    expect(within(upgrading).getByRole("progressbar", { name: "Upgrade progress of Meter 2" }).getAttribute("aria-valuenow")).toBe("45");

    // Bluetooth devices: no batch actions and no switch, but the Bluetooth flow.
    const ble = rowOf("DK0003");
    expect(within(ble).queryByRole("switch")).toBeNull();
    expect(within(ble).getByRole("button", { name: "Bluetooth update: Meter 3" })).toBeTruthy();

    expect(callsOf("list_quectel_plans")).toEqual(expect.arrayContaining([{ cached: true }, { cached: false }]));
    expect(document.querySelector(".plans-status")!.textContent).toContain("Live 3 plans on 8 devices");
  });

  it("polls the details of a plan in progress and shows its new state", async () => {
    const running = makePlanRow(1, { state: "upgrading", deviceStatus: 1, userConfirmStatus: 1, percent: 10,
      actions: { confirm: false, appoint: false, cancel: false, retry: false } });
    const done = { ...running, state: "succeeded" as const, deviceStatus: 2, percent: 100 };
    setup([running], { quectel_plan_details: () => [done] });
    await waitFor(() => expect(rowOf("DK0001").textContent).toContain("Succeeded"));
    expect(callsOf("quectel_plan_details")[0]).toEqual({ items: [{ deviceKey: "DK0001", planId: 7_310_000_001 }] });
  });

  it("appoints a window with the picker, explaining the rules and showing Rust's check before sending", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    const user = userEvent.setup();
    const row = makePlanRow(1);
    // Rust's answers for the windows this test picks (the rules themselves are tested in Rust).
    const refusals = new Map<string, { code: "validation"; message: string }>([
      [`${NOW + 2 * HOUR}/${NOW + 2 * HOUR + 30 * 60_000}`, { code: "validation", message: "The window must be at least 1 hour long; this one is 30 minutes." }],
      [`${NOW + 2 * HOUR}/${NOW + 8 * 24 * HOUR}`, { code: "validation", message: "The window must lie inside the plan period (…)." }],
      [`${NOW + 2 * HOUR}/${NOW + HOUR}`, { code: "validation", message: "The window must end after it starts." }],
    ]);
    setup([row], {
      check_quectel_appointment: (args) => {
        const w = args.window as { startMs: number; endMs: number };
        expect([args.planStart, args.planEnd]).toEqual([row.planStart, row.planEnd]);
        return refusals.get(`${w.startMs}/${w.endMs}`) ?? null;
      },
      act_on_quectel_plans: (args) => {
        const w = args.window as { startMs: number; endMs: number };
        return report("appoint", [{ ...row, state: "appointed", userConfirmStatus: 2, appointStart: w.startMs, appointEnd: w.endMs }]);
      },
    });
    await user.click(await screen.findByRole("button", { name: "Appoint a window: Meter 1" }));
    const dialog = screen.getByRole("dialog", { name: "Appoint an upgrade window · Meter 1" });
    expect(dialog.textContent).toContain("inside the plan period");
    expect(dialog.textContent).toContain("at least one hour");
    const start = within(dialog).getByLabelText("Window start") as HTMLInputElement;
    const end = within(dialog).getByLabelText("Window end") as HTMLInputElement;
    const submit = within(dialog).getByRole("button", { name: "Appoint window" }) as HTMLButtonElement;
    // Bounded by the plan period, and the suggested window accepted once Rust has checked it.
    expect(start.type).toBe("datetime-local");
    expect(start.min).toBe(toLocalInput(NOW - HOUR));
    expect(end.max).toBe(toLocalInput(NOW + 7 * 24 * HOUR));
    expect(start.value).toBe(toLocalInput(NOW + HOUR));
    await waitFor(() => expect(submit.disabled).toBe(false));
    expect(dialog.textContent).toContain("Window length: 2 h 0 min");

    fireEvent.change(start, { target: { value: toLocalInput(NOW + 2 * HOUR) } });
    fireEvent.change(end, { target: { value: toLocalInput(NOW + 2 * HOUR + 30 * 60_000) } });
    await waitFor(() => expect(submit.disabled).toBe(true));
    expect(dialog.textContent).toContain("The window must be at least 1 hour long; this one is 30 minutes.");
    expect(end.getAttribute("aria-invalid")).toBe("true");
    fireEvent.change(end, { target: { value: toLocalInput(NOW + 8 * 24 * HOUR) } });
    await waitFor(() => expect(dialog.textContent).toContain("The window must lie inside the plan period (…)."));
    expect(submit.disabled).toBe(true);
    fireEvent.change(end, { target: { value: toLocalInput(NOW + HOUR) } });
    await waitFor(() => expect(dialog.textContent).toContain("The window must end after it starts."));
    // An unreadable picker needs no check.
    fireEvent.change(end, { target: { value: "" } });
    expect(dialog.textContent).toContain("Pick a start and an end.");
    expect(callsOf("act_on_quectel_plans")).toEqual([]);

    fireEvent.change(end, { target: { value: toLocalInput(NOW + 4 * HOUR) } });
    await waitFor(() => expect(submit.disabled).toBe(false));
    expect(dialog.textContent).toContain("Window length: 2 h 0 min");
    // Rust was asked about the windows the pickers rested on, not at every change.
    expect(callsOf("check_quectel_appointment").map((a) => a.window)).toContainEqual({ startMs: NOW + 2 * HOUR, endMs: NOW + 4 * HOUR });
    await user.click(submit);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(callsOf("act_on_quectel_plans")).toEqual([
      {
        action: "appoint",
        items: [{ deviceKey: "DK0001", planId: 7_310_000_001 }],
        window: { startMs: NOW + 2 * HOUR, endMs: NOW + 4 * HOUR },
      },
    ]);
    await waitFor(() => expect(rowOf("DK0001").textContent).toContain("Appointed"));
    expect(rowOf("DK0001").textContent).toContain("Window");
  });

  it("shows the cloud's refusal of an appointment in the dialog", async () => {
    const user = userEvent.setup();
    setup([makePlanRow(1, { planStart: null, planEnd: null })], {
      check_quectel_appointment: () => null,
      act_on_quectel_plans: () => {
        throw { code: "validation", message: "The appointed window must lie inside the plan period." };
      },
    });
    await user.click(await screen.findByRole("button", { name: "Appoint a window: Meter 1" }));
    const dialog = screen.getByRole("dialog");
    const submit = within(dialog).getByRole("button", { name: "Appoint window" }) as HTMLButtonElement;
    await waitFor(() => expect(submit.disabled).toBe(false));
    await user.click(submit);
    expect(await within(dialog).findByRole("alert")).toBeTruthy();
    expect(dialog.textContent).toContain("The appointed window must lie inside the plan period.");
  });

  it("cancels a plan only after a confirmation that says it ends as upgrade failed", async () => {
    const user = userEvent.setup();
    const row = makePlanRow(1);
    setup([row, makePlanRow(2)], {
      act_on_quectel_plans: () =>
        report("cancel", [{ ...row, state: "cancelled", deviceStatus: 3, userConfirmStatus: 3,
          actions: { confirm: false, appoint: false, cancel: false, retry: false } }]),
    });
    await user.click(await screen.findByRole("button", { name: "Cancel plan: Meter 1" }));
    const question = screen.getByRole("alertdialog", { name: "Cancel the upgrade plan for Meter 1?" });
    expect(question.textContent).toContain("“upgrade failed”");
    // The safe choice keeps the plan.
    await user.click(within(question).getByRole("button", { name: "Keep plan" }));
    expect(callsOf("act_on_quectel_plans")).toEqual([]);

    await user.click(screen.getByRole("button", { name: "Cancel plan: Meter 1" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Cancel plan" }));
    await waitFor(() => expect(rowOf("DK0001").textContent).toContain("Cancelled (upgrade failed)"));
    expect(callsOf("act_on_quectel_plans")[0]).toMatchObject({ action: "cancel", items: [{ deviceKey: "DK0001" }] });
    expect(within(rowOf("DK0001")).queryByRole("button", { name: /Retry/ })).toBeNull();
  });

  it("acts on a selection and shows each device's answer", async () => {
    const user = userEvent.setup();
    const a = makePlanRow(1);
    const b = makePlanRow(2);
    const failed = makePlanRow(3, { state: "failed", deviceStatus: 3, userConfirmStatus: 1, percent: 50,
      actions: { confirm: false, appoint: false, cancel: false, retry: true } });
    setup([a, b, failed], {
      act_on_quectel_plans: (args) => ({
        action: args.action,
        results: [
          { deviceKey: "DK0001", planId: a.planId, ok: true, error: null },
          { deviceKey: "DK0002", planId: b.planId, ok: false,
            error: { code: "conflict", message: "Quectel refused DK0002: the device is already upgrading.", vendorCode: "409" } },
        ],
        rows: [{ ...a, state: "upgrading", deviceStatus: 1, userConfirmStatus: 1, actions: failed.actions }],
      }),
    });
    await user.click(await screen.findByRole("checkbox", { name: "Select Meter 1" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Meter 2" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Meter 3" }));
    const bar = screen.getByRole("region", { name: "Selected plans" });
    expect(bar.textContent).toContain("3 selected");
    // Only the rows that allow an action count for it.
    expect(within(bar).getByRole("button", { name: "Retry 1" })).toBeTruthy();
    expect(within(bar).getByRole("button", { name: "Cancel 2 plans" })).toBeTruthy();
    await user.click(within(bar).getByRole("button", { name: "Upgrade 2 now" }));

    const results = await screen.findByRole("list", { name: "Results of “Upgrade now”" });
    expect(results.querySelector('[data-device-key="DK0001"]')!.textContent).toContain("Done");
    const refused = results.querySelector('[data-device-key="DK0002"]')!;
    expect(refused.textContent).toContain("Refused");
    expect(refused.textContent).toContain("the device is already upgrading");
    expect(refused.textContent).toContain("Code 409");
    expect(callsOf("act_on_quectel_plans")[0]).toMatchObject({
      action: "confirm",
      items: [{ deviceKey: "DK0001" }, { deviceKey: "DK0002" }],
    });
    // The device that took it leaves the selection; the refused one stays for another try.
    expect(within(screen.getByRole("region", { name: "Selected plans" })).getByText("2 selected")).toBeTruthy();
  });

  it("retries a failed plan from its row", async () => {
    const user = userEvent.setup();
    const failed = makePlanRow(1, { state: "failed", deviceStatus: 3, userConfirmStatus: 1, percent: 50,
      actions: { confirm: false, appoint: false, cancel: false, retry: true } });
    setup([failed], { act_on_quectel_plans: () => report("retry", []) });
    const row = await waitFor(() => rowOf("DK0001"));
    expect(row.textContent).toContain("Upgrade failed 50 %");
    await user.click(within(row).getByRole("button", { name: "Retry: Meter 1" }));
    await waitFor(() => expect(callsOf("act_on_quectel_plans")).toHaveLength(1));
    expect(callsOf("act_on_quectel_plans")[0]).toMatchObject({ action: "retry", window: null });
  });

  it("toggles auto-upgrade and shows the value read back, or why it failed", async () => {
    const user = userEvent.setup();
    let attempts = 0;
    setup([makePlanRow(1), makePlanRow(2)], {
      set_quectel_auto_upgrade: (args) => {
        attempts += 1;
        if (args.deviceKey === "DK0002") throw { code: "offline", message: "Quectel cannot be reached." };
        return { deviceKey: args.deviceKey, on: args.on };
      },
    });
    const first = await screen.findByRole("switch", { name: "Auto-upgrade for Meter 1" });
    await waitFor(() => expect((first as HTMLButtonElement).disabled).toBe(false));
    await user.click(first);
    await waitFor(() => expect(first.getAttribute("aria-checked")).toBe("true"));
    expect(first.textContent).toContain("On");
    expect(callsOf("set_quectel_auto_upgrade")).toEqual([{ deviceKey: "DK0001", on: true }]);

    const second = screen.getByRole("switch", { name: "Auto-upgrade for Meter 2" });
    await waitFor(() => expect((second as HTMLButtonElement).disabled).toBe(false));
    await user.click(second);
    expect(await within(rowOf("DK0002")).findByRole("alert")).toBeTruthy();
    expect(rowOf("DK0002").textContent).toContain("Quectel cannot be reached.");
    expect(second.getAttribute("aria-checked")).toBe("false");
    expect(attempts).toBe(2);
  });

  it("paints the cached plans first and says so", async () => {
    let answer: (value: unknown) => void = () => {};
    mockCommands({
      list_quectel_plans: (args) =>
        args.cached
          ? planList([makePlanRow(1, { cached: true })], { live: false })
          : new Promise((resolve) => {
              answer = resolve;
            }),
      get_quectel_auto_upgrade: (args) => ({ deviceKey: args.deviceKey, on: true }),
    });
    renderWithQueries(<PlansView />);
    await waitFor(() => expect(rowOf("DK0001")).toBeTruthy());
    expect(screen.getByText("Cached")).toBeTruthy();
    answer(planList([makePlanRow(1), makePlanRow(2)]));
    await waitFor(() => expect(rowOf("DK0002")).toBeTruthy());
    expect(screen.getByText("Live")).toBeTruthy();
  });
});

describe("plan polling helpers", () => {
  it("polls rows the cloud is moving, and appointments whose window has opened", () => {
    expect(isInProgress(makePlanRow(1, { state: "upgrading" }), NOW)).toBe(true);
    expect(isInProgress(makePlanRow(1, { state: "confirmed" }), NOW)).toBe(true);
    expect(isInProgress(makePlanRow(1, { state: "appointed", appointStart: NOW + HOUR }), NOW)).toBe(false);
    expect(isInProgress(makePlanRow(1, { state: "appointed", appointStart: NOW - 1 }), NOW)).toBe(true);
    expect(isInProgress(makePlanRow(1, { state: "succeeded" }), NOW)).toBe(false);
  });

  it("merges fresher rows by device and plan", () => {
    const list = planList([makePlanRow(1), makePlanRow(2)]);
    const merged = mergeRows(list, [makePlanRow(2, { state: "succeeded" }), makePlanRow(9)]);
    expect(merged.rows.map((r) => r.state)).toEqual(["waiting", "succeeded"]);
    expect(mergeRows(list, [])).toBe(list);
  });
});
