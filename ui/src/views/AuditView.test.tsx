import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { AuditView } from "./AuditView";

const entry = (id: number, action: string, result = "ok") => ({
  id, at: 1_795_996_800_000 + id, actor: "ana", action, cloud: "vicohome", target: `campaign #${id}`, result,
  detail: result === "ok" ? null : "The camera is offline.",
});

describe("audit log", () => {
  it("filters and exports what it shows, in the chosen format, where the user chose in Rust's save dialog", async () => {
    mockCommands({
      list_audit: ({ query }) =>
        (query as { action?: string }).action === "campaign."
          ? [entry(2, "campaign.start")]
          : [entry(2, "campaign.start"), entry(1, "firmware.add", "error")],
      export_audit: () => ({ count: 2, path: "/home/ana/audit.csv" }),
    });
    renderWithQueries(<AuditView />);
    const table = await screen.findByRole("table", { name: "Audit log" });
    expect(table.textContent).toContain("firmware.add");
    expect(table.textContent).toContain("The camera is offline.");
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Action"), "campaign.");
    await user.selectOptions(screen.getByLabelText("Result"), "ok");
    await vi.waitFor(() => expect(screen.getByRole("table", { name: "Audit log" }).textContent).not.toContain("firmware.add"));
    await user.click(screen.getByRole("button", { name: "Export CSV" }));
    expect(await screen.findByText("2 entries exported to /home/ana/audit.csv")).toBeTruthy();
    // No path goes from the window: only what to export.
    expect(callsOf("export_audit")).toEqual([{ query: { action: "campaign.", result: "ok", limit: 0 }, format: "csv" }]);
  });

  it("exports JSON with the cloud filter, and says nothing when the save dialog is closed", async () => {
    let answer: { count: number; path: string } | null = null;
    mockCommands({ list_audit: () => [entry(3, "firmware.publish")], export_audit: () => answer });
    renderWithQueries(<AuditView />);
    await screen.findByRole("table", { name: "Audit log" });
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Cloud"), "quectel");
    await user.click(screen.getByRole("button", { name: "Export JSON" }));
    await vi.waitFor(() => expect(callsOf("export_audit")).toHaveLength(1));
    expect(screen.queryByText(/exported to/)).toBeNull();

    answer = { count: 1, path: "/tmp/audit.json" };
    await user.click(screen.getByRole("button", { name: "Export JSON" }));
    expect(await screen.findByText("1 entries exported to /tmp/audit.json")).toBeTruthy();
    expect(callsOf("export_audit")[1]).toEqual({ query: { cloud: "quectel", limit: 0 }, format: "json" });
  });
});
