import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { makeCampaign, makeDashboard, makeFirmware } from "../test/campaignFixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { CampaignsView } from "./CampaignsView";

/** The answers that show campaign `id`, just created, as ready. */
function readyCampaign(id: number) {
  return {
    create_campaign: () => makeCampaign({ id, state: "ready" }),
    campaign_dashboard: () => makeDashboard(makeCampaign({ id, state: "ready" })),
    campaign_devices: () => ({ matching: 0, rows: [] }),
  };
}

/** Opens "New campaign" in the rendered view, names it `name` and picks the firmware listed as `option`. */
async function newCampaign(name: string, option: string, firmwareId: string) {
  const user = userEvent.setup();
  await user.click(await screen.findByRole("button", { name: "New campaign" }));
  await user.type(screen.getByLabelText("Campaign name"), name);
  await screen.findByRole("option", { name: option });
  await user.selectOptions(screen.getByLabelText("Firmware"), firmwareId);
  return user;
}

describe("campaigns view", () => {
  it("checks devices before creating, then opens the new campaign's dashboard", async () => {
    mockCommands({
      list_campaigns: () => [],
      list_firmware: () => [makeFirmware({ id: 4, fileName: "cam.bin", version: "7.7.7", cloud: "vicohome" })],
      plan_campaign: () => ({
        preflight: {
          targets: 5,
          eligible: 3,
          waveSizes: [1, 2],
          byReason: [{ reason: "offline", label: "Offline", count: 2 }],
          excluded: [
            { accountId: 1, deviceId: "SN-9", name: "Garage", model: "CG6", reason: "offline", detail: "Offline at the last refresh." },
          ],
        },
        waves: [
          { wave: 0, devices: 1, earliestStartMs: null, after: "at once" },
          { wave: 1, devices: 2, earliestStartMs: null, after: "when wave 1 has passed" },
        ],
        plannedAt: 0,
      }),
      ...readyCampaign(8),
    });
    renderWithQueries(<CampaignsView />);
    const user = await newCampaign("CG6 rollout", "cam.bin 7.7.7 (Vicohome)", "4");
    await user.type(screen.getByLabelText("Search devices"), "CG6");
    const waves = screen.getByLabelText("Waves (%)");
    await user.clear(waves);
    await user.type(waves, "50, 100");
    await user.click(screen.getByRole("button", { name: "Check devices" }));
    const report = await screen.findByRole("region", { name: "Pre-flight check" });
    expect(report.textContent).toContain("3 of 5 devices take it.");
    expect(report.textContent).toContain("Devices per wave: 1 → 2");
    expect(within(report).getByText("Offline at the last refresh.")).toBeTruthy();
    const planned = screen.getByRole("table", { name: "Planned waves" });
    expect(within(planned).getByRole("row", { name: /Wave 2/ }).textContent).toContain("when wave 1 has passed");
    const [checked] = callsOf("plan_campaign");
    const sent = checked!.campaign as { targets: unknown; settings: { waves: number[] } };
    expect(sent.targets).toEqual({
      kind: "filter",
      query: { search: "CG6", cloud: "vicohome", status: "all", sort: "name", descending: false, offset: 0, limit: 0 },
    });
    expect(sent.settings.waves).toEqual([50, 100]);

    await user.click(screen.getByRole("button", { name: "Create campaign" }));
    const state = await screen.findByRole("status", { name: "Campaign state" });
    expect(state.textContent).toBe("Ready");
    expect(screen.getByRole("button", { name: "Start campaign" })).toBeTruthy();
  });

  it("sends online-only targets and a maintenance window in minutes, and shows the engine's validation error", async () => {
    let attempts = 0;
    mockCommands({
      list_campaigns: () => [],
      list_firmware: () => [makeFirmware({ id: 6, fileName: "plug.bin", version: "2.0", cloud: "quectel" })],
      ...readyCampaign(9),
      create_campaign: () => {
        attempts += 1;
        if (attempts === 1) throw { code: "validation", message: "A campaign named Plugs already exists.", field: "name" };
        return makeCampaign({ id: 9, state: "ready" });
      },
    });
    renderWithQueries(<CampaignsView />);
    const user = await newCampaign("Plugs", "plug.bin 2.0 (Quectel)", "6");
    await user.click(screen.getByLabelText("Only online devices"));
    await user.click(screen.getByLabelText("Device errors"));
    await user.click(screen.getByLabelText("Only inside a maintenance window"));
    await user.click(screen.getByLabelText("Mon"));
    await user.click(screen.getByLabelText("Fri"));
    fireEvent.change(screen.getByLabelText("Window opens"), { target: { value: "23:15" } });
    fireEvent.change(screen.getByLabelText("Window closes"), { target: { value: "02:00" } });

    await user.click(screen.getByRole("button", { name: "Create campaign" }));
    expect((await screen.findByRole("alert")).textContent).toContain("A campaign named Plugs already exists.");
    const [first] = callsOf("create_campaign");
    const sent = first!.campaign as {
      targets: { kind: string; query: { cloud: string; status: string } };
      settings: { window: unknown; retry: { retryOn: string[] } };
    };
    expect(sent.targets.kind).toBe("filter");
    expect(sent.targets.query.cloud).toBe("quectel");
    expect(sent.targets.query.status).toBe("online");
    expect(sent.settings.retry.retryOn).toEqual(["offline", "rate_limited", "retryable", "device"]);
    expect(sent.settings.window).toEqual({
      days: [0, 4],
      startMinute: 23 * 60 + 15,
      endMinute: 120,
      utcOffsetMinutes: -new Date().getTimezoneOffset(),
    });

    await user.click(screen.getByRole("button", { name: "Create campaign" }));
    expect((await screen.findByRole("status", { name: "Campaign state" })).textContent).toBe("Ready");
  });
});
