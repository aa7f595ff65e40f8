import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { makeCampaign, makeDashboard } from "../test/campaignFixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { actionsFor, CampaignDashboard } from "./CampaignDashboard";

const device = {
  accountId: 1, deviceId: "SN-1", name: "Porch", model: "CG6", fromVersion: "1.0", wave: 1, state: "running",
  attempts: 1, percent: 45, remoteState: "downloading", reportedAt: Date.now() - 4_000, nextAttemptAt: null,
  error: null, startedAt: 0, finishedAt: null,
};

describe("campaign dashboard", () => {
  it("shows the state, counts, waves, failures by reason and each device's last report with its age", async () => {
    mockCommands({
      campaign_dashboard: () => makeDashboard(),
      campaign_devices: () => ({ matching: 1, rows: [device] }),
      pause_campaign: () => makeCampaign({ state: "paused" }),
    });
    renderWithQueries(<CampaignDashboard id={3} onBack={() => {}} />);
    const state = await screen.findByRole("status", { name: "Campaign state" });
    expect(state.textContent).toBe("Running");
    expect(screen.getByText("80.0 %")).toBeTruthy();
    expect(screen.getByText("2.5 devices/min")).toBeTruthy();
    const waves = screen.getByRole("table", { name: "Waves" });
    expect(within(waves).getByText("Wave 2 (current)")).toBeTruthy();
    const failures = screen.getByRole("list", { name: "Failures by reason" });
    expect(failures.textContent).toContain("The camera could not install the update.");
    expect(failures.textContent).toContain("-10402");
    expect(failures.textContent).toContain("SN-FAIL");
    expect(screen.getByRole("img").getAttribute("aria-label")).toContain("4 succeeded, 1 failed, 2 updating, 5 pending");
    const devices = await screen.findByRole("table", { name: "Campaign devices" });
    expect(await within(devices).findByText(/downloading · reported [45] s ago/)).toBeTruthy();
    expect(within(devices).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("45");

    // Only what applies to a running campaign with failures.
    expect(screen.queryByRole("button", { name: "Start campaign" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Resume" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete campaign" })).toBeNull();
    expect(screen.getByRole("button", { name: "Retry failed devices" })).toBeTruthy();
    await userEvent.setup().click(screen.getByRole("button", { name: "Pause" }));
    expect(callsOf("pause_campaign")).toEqual([{ id: 3 }]);
  });

  it("says which runner holds the campaign, so a second window or otactl knows it is only following", async () => {
    const runBy = { holder: "h", host: "build-7", pid: 812, program: "otactl", acquiredAt: 0, expiresAt: Date.now() + 15_000 };
    mockCommands({
      campaign_dashboard: () => ({ ...makeDashboard(), runBy }),
      campaign_devices: () => ({ matching: 0, rows: [] }),
    });
    renderWithQueries(<CampaignDashboard id={3} onBack={() => {}} />);
    const who = await screen.findByLabelText("Who runs this campaign");
    expect(who.textContent).toContain("Run by otactl pid 812 on build-7");
  });

  it("asks before cancelling", async () => {
    mockCommands({
      campaign_dashboard: () => makeDashboard(makeCampaign({ state: "ready", counts: { ...makeCampaign().counts, failed: 0 } })),
      campaign_devices: () => ({ matching: 0, rows: [] }),
      cancel_campaign: () => makeCampaign({ state: "cancelled" }),
    });
    renderWithQueries(<CampaignDashboard id={3} onBack={() => {}} />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Cancel campaign" }));
    const question = screen.getByRole("alertdialog");
    expect(question.textContent).toContain("will not start");
    expect(callsOf("cancel_campaign")).toEqual([]);
    await user.click(within(question).getByRole("button", { name: "Cancel campaign" }));
    expect(callsOf("cancel_campaign")).toEqual([{ id: 3 }]);
  });

  it("offers the actions each state allows", () => {
    const counts = (failed: number, inFlight = 0) => ({ ...makeCampaign().counts, failed, inFlight });
    const base = { waiting: null, rules: makeCampaign().rules, closed: false };
    expect(actionsFor({ ...base, state: "ready", counts: counts(0) })).toEqual(["start", "cancel", "delete"]);
    expect(actionsFor({ ...base, state: "paused", counts: counts(0, 1) })).toEqual(["resume", "cancel"]);
    expect(actionsFor({ ...base, state: "completed", counts: counts(2) })).toEqual(["retry_failed", "delete"]);
    expect(actionsFor({ ...base, state: "aborted", counts: counts(4) })).toEqual(["retry_failed", "delete"]);
    expect(actionsFor({ ...base, state: "cancelled", counts: counts(3) })).toEqual(["delete"]);
    expect(actionsFor({ ...base, state: "awaiting_approval", counts: counts(0) })).toEqual(["approve", "cancel", "delete"]);
    const gated = { ...base, waiting: { kind: "awaiting_wave_approval", wave: 1 } as const };
    expect(actionsFor({ ...gated, state: "running", counts: counts(0) })).toEqual(["approve_wave", "pause", "cancel"]);
    const continuous = { ...base, rules: { ...base.rules, continuous: true } };
    expect(actionsFor({ ...continuous, state: "running", counts: counts(0) })).toEqual(["pause", "close", "cancel"]);
    expect(actionsFor({ ...continuous, closed: true, state: "running", counts: counts(0) })).toEqual(["pause", "cancel"]);
  });

  it("says what a manual gate holds the campaign for and approves the next wave with one button", async () => {
    const gated = makeCampaign({
      rules: { ...makeCampaign().rules, gate: "manual", bakeSecs: 1800 },
      waiting: { kind: "awaiting_wave_approval", wave: 1 },
    });
    mockCommands({
      campaign_dashboard: () => makeDashboard(gated),
      campaign_devices: () => ({ matching: 0, rows: [] }),
      approve_wave: () => makeCampaign({ waveApproved: 1 }),
    });
    renderWithQueries(<CampaignDashboard id={3} onBack={() => {}} />);
    const waiting = await screen.findByRole("status", { name: "What the campaign waits for" });
    expect(waiting.textContent).toBe("Wave 2 waits for approval (manual gate).");
    expect(screen.getByLabelText("Campaign rules").textContent).toContain("manual gate");
    expect(screen.getByLabelText("Campaign rules").textContent).toContain("Bake 30 min");
    expect(screen.getByLabelText("Campaign rules").textContent).not.toContain("device timeout");
    await userEvent.setup().click(screen.getByRole("button", { name: "Approve next wave" }));
    expect(callsOf("approve_wave")).toEqual([{ id: 3 }]);
  });

  it("approves a campaign that waits for a second pair of eyes, and shows Rust's refusal to its creator", async () => {
    mockCommands({
      campaign_dashboard: () =>
        makeDashboard(makeCampaign({ state: "awaiting_approval", waiting: { kind: "awaiting_approval" }, rules: { ...makeCampaign().rules, requireApproval: true } })),
      campaign_devices: () => ({ matching: 0, rows: [] }),
      approve_campaign: () => {
        throw { code: "validation", message: "You created this campaign: another user must approve it." };
      },
    });
    renderWithQueries(<CampaignDashboard id={3} onBack={() => {}} />);
    await userEvent.setup().click(await screen.findByRole("button", { name: "Approve campaign" }));
    expect(callsOf("approve_campaign")).toEqual([{ id: 3 }]);
    expect((await screen.findByRole("alert")).textContent).toContain("another user must approve it");
  });
});
