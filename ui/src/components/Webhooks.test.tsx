import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Webhook } from "../bindings/Webhook";
import type { WebhookDelivery } from "../bindings/WebhookDelivery";
import { expectAlertSaying } from "../test/alerts";
import { emitEvent } from "../test/events";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { useDataChangedInvalidation } from "../hooks/useDataChanged";
import { AddWebhookForm } from "./AddWebhookForm";
import { WebhooksTable } from "./WebhooksTable";

const DELIVERED: WebhookDelivery = {
  id: 11,
  webhookId: 1,
  auditId: 40,
  event: "campaign.started",
  attempt: 1,
  status: 204,
  error: null,
  outcome: "delivered",
  at: Date.UTC(2026, 4, 12, 14, 3),
  durationMs: 12,
};

const HOOK: Webhook = {
  id: 1,
  url: "https://hooks.example.com/ota",
  events: ["campaign.*"],
  lastAuditId: 40,
  createdBy: "tech",
  createdAt: 0,
  lastDelivery: DELIVERED,
};

const OTHER: Webhook = {
  id: 2,
  url: "http://127.0.0.1:9000/in",
  events: ["campaign.completed", "campaign.aborted"],
  lastAuditId: 0,
  createdBy: "tech",
  createdAt: 0,
  lastDelivery: null,
};

function WithNotices() {
  useDataChangedInvalidation();
  return <WebhooksTable />;
}

describe("webhooks", () => {
  it("lists each webhook with its events and last delivery, and the chosen one's deliveries", async () => {
    const user = userEvent.setup();
    const failed: WebhookDelivery = {
      ...DELIVERED,
      id: 12,
      webhookId: 2,
      event: "campaign.completed",
      attempt: 3,
      status: null,
      error: "connection refused",
      outcome: "failed",
    };
    mockCommands({
      list_webhooks: () => [HOOK, OTHER],
      webhook_deliveries: (args) => (args.webhookId === 1 ? [DELIVERED] : [failed]),
    });
    renderWithQueries(<WebhooksTable />);
    const table = await screen.findByRole("table", { name: "Webhooks" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]?.textContent).toContain("https://hooks.example.com/ota");
    expect(rows[0]?.textContent).toContain("campaign.*");
    expect(rows[0]?.textContent).toContain("Delivered · campaign.started");
    expect(rows[1]?.textContent).toContain("campaign.completed, campaign.aborted");
    expect(rows[1]?.textContent).toContain("Nothing sent yet");

    // The first is shown at first.
    const log = await screen.findByRole("table", { name: "Webhook deliveries" });
    expect(screen.getByRole("heading", { name: "Deliveries to https://hooks.example.com/ota" })).toBeTruthy();
    const first = within(log).getAllByRole("row")[1];
    expect(first?.textContent).toContain("campaign.started");
    expect(first?.textContent).toContain("204");
    expect(first?.textContent).toContain("Delivered");
    expect(callsOf("webhook_deliveries")).toEqual([{ webhookId: 1, limit: 100 }]);

    const show = screen.getByRole("button", { name: "Show deliveries of http://127.0.0.1:9000/in" });
    expect(show.getAttribute("aria-pressed")).toBe("false");
    await user.click(show);
    expect(show.getAttribute("aria-pressed")).toBe("true");
    await screen.findByRole("heading", { name: "Deliveries to http://127.0.0.1:9000/in" });
    await waitFor(() =>
      expect(within(screen.getByRole("table", { name: "Webhook deliveries" })).getAllByRole("row")[1]?.textContent).toContain(
        "no answer",
      ),
    );
    const row = within(screen.getByRole("table", { name: "Webhook deliveries" })).getAllByRole("row")[1];
    expect(row?.textContent).toContain("Failed");
    expect(row?.textContent).toContain("connection refused");
    expect(row?.textContent).toContain("3");
  });

  it("says when there are none", async () => {
    mockCommands({ list_webhooks: () => [] });
    renderWithQueries(<WebhooksTable />);
    expect(await screen.findByText("No webhooks yet.")).toBeTruthy();
    expect(screen.queryByRole("table", { name: "Webhook deliveries" })).toBeNull();
  });

  it("removes a webhook only after confirming", async () => {
    const user = userEvent.setup();
    let hooks = [HOOK];
    mockCommands({
      list_webhooks: () => hooks,
      webhook_deliveries: () => [],
      remove_webhook: () => {
        hooks = [];
        return HOOK;
      },
    });
    renderWithQueries(<WebhooksTable />);
    const remove = await screen.findByRole("button", { name: "Remove webhook https://hooks.example.com/ota" });
    await user.click(remove);
    screen.getByRole("alertdialog", { name: "Remove this webhook?" });
    await user.keyboard("{Escape}");
    expect(callsOf("remove_webhook")).toEqual([]);

    await user.click(remove);
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Remove webhook" }));
    await waitFor(() => expect(callsOf("remove_webhook")).toEqual([{ id: 1 }]));
    expect(await screen.findByText("Webhook https://hooks.example.com/ota removed.")).toBeTruthy();
    await waitFor(() => expect(screen.getByText("No webhooks yet.")).toBeTruthy());
  });

  it("reads the list and the log again on an audit notice", async () => {
    let hooks: Webhook[] = [];
    mockCommands({ list_webhooks: () => hooks, webhook_deliveries: () => [DELIVERED] });
    renderWithQueries(<WithNotices />);
    await screen.findByText("No webhooks yet.");
    hooks = [HOOK];
    act(() => emitEvent("data-changed", { kinds: ["audit"] }));
    expect(await screen.findByRole("table", { name: "Webhooks" })).toBeTruthy();
    expect(await screen.findByRole("table", { name: "Webhook deliveries" })).toBeTruthy();
  });

  it("checks the form before asking Rust, and shows Rust's refusal", async () => {
    const user = userEvent.setup();
    mockCommands({
      add_webhook: () => {
        throw {
          code: "validation",
          message: "Plain http is refused for the webhook at hooks.example.com: its events and signatures would travel unencrypted.",
          hint: "Use an https:// URL (plain http is allowed only to 127.0.0.1, ::1 or localhost, for tests).",
        };
      },
    });
    renderWithQueries(<AddWebhookForm />);
    const events = screen.getByLabelText<HTMLInputElement>("Events");
    expect(events.value).toBe("campaign.*");
    expect(screen.getByLabelText<HTMLInputElement>("Signing secret").type).toBe("password");

    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    await expectAlertSaying(["Give the webhook's URL."]);
    await user.type(screen.getByLabelText("Webhook URL"), "http://hooks.example.com/ota");
    await user.clear(events);
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    await expectAlertSaying(["Choose at least one event"]);
    await user.type(events, "campaign.completed, campaign.aborted");
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    await expectAlertSaying(["Give a signing secret"]);
    expect(callsOf("add_webhook")).toEqual([]);

    const secret = screen.getByLabelText<HTMLInputElement>("Signing secret");
    await user.type(secret, "topsecret");
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    await expectAlertSaying(["Plain http is refused", "Use an https:// URL"]);
    expect(callsOf("add_webhook")).toEqual([
      {
        webhook: { url: "http://hooks.example.com/ota", events: ["campaign.completed", "campaign.aborted"] },
        secret: "topsecret",
      },
    ]);
    // Everything typed stays, to fix the one thing wrong.
    expect(secret.value).toBe("topsecret");
  });

  it("adds a webhook and clears the secret", async () => {
    const user = userEvent.setup();
    mockCommands({
      add_webhook: (args) => ({ ...HOOK, id: 3, url: (args.webhook as { url: string }).url, lastDelivery: null }),
    });
    renderWithQueries(<AddWebhookForm />);
    await user.type(screen.getByLabelText("Webhook URL"), "https://hooks.example.com/new");
    await user.type(screen.getByLabelText("Signing secret"), "topsecret");
    await user.click(screen.getByRole("button", { name: "Add webhook" }));
    expect(await screen.findByText("Webhook https://hooks.example.com/new added.")).toBeTruthy();
    expect(callsOf("add_webhook")).toEqual([
      { webhook: { url: "https://hooks.example.com/new", events: ["campaign.*"] }, secret: "topsecret" },
    ]);
    expect(screen.getByLabelText<HTMLInputElement>("Signing secret").value).toBe("");
    expect(screen.getByLabelText<HTMLInputElement>("Webhook URL").value).toBe("");
  });
});
