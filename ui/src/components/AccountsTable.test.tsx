import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Account } from "../bindings/Account";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { AccountsTable } from "./AccountsTable";

const SANDBOX: Account = {
  id: 1,
  name: "Sandbox Vicohome",
  cloud: "vicohome",
  baseUrl: "http://127.0.0.1:4000",
  region: "us",
  username: "demo@vicohome.test",
  sandbox: true,
  allowHttp: false,
  createdAt: 0,
};

describe("accounts table", () => {
  it("removes an account only after confirming", async () => {
    const user = userEvent.setup();
    let accounts = [SANDBOX];
    mockCommands({
      list_accounts: () => accounts,
      remove_account: (args) => {
        accounts = [];
        return { ...SANDBOX, name: String(args.name) };
      },
    });
    renderWithQueries(<AccountsTable />);
    const remove = await screen.findByRole("button", { name: "Remove Sandbox Vicohome" });
    expect(screen.getByText("Sandbox", { selector: ".sandbox-tag" })).toBeTruthy();

    await user.click(remove);
    const dialog = screen.getByRole("alertdialog", { name: "Remove account “Sandbox Vicohome”?" });
    expect(document.activeElement?.textContent).toBe("Cancel");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(callsOf("remove_account")).toEqual([]);

    await user.click(remove);
    await user.click(screen.getByRole("button", { name: "Remove account" }));
    await waitFor(() => expect(callsOf("remove_account")).toEqual([{ name: "Sandbox Vicohome" }]));
    expect(await screen.findByText("Account “Sandbox Vicohome” removed.")).toBeTruthy();
    await waitFor(() => expect(screen.getByText("No accounts yet.")).toBeTruthy());
    expect(dialog.isConnected).toBe(false);
  });

  it("marks the accounts that use plain http, and only those", async () => {
    const plant: Account = {
      ...SANDBOX,
      id: 2,
      name: "Plant",
      cloud: "onenet",
      baseUrl: "http://ota.heclouds.com",
      username: "245528",
      sandbox: false,
      allowHttp: true,
    };
    const secure: Account = { ...plant, id: 3, name: "Secure plant", baseUrl: "https://ota.heclouds.com" };
    mockCommands({ list_accounts: () => [SANDBOX, plant, secure] });
    renderWithQueries(<AccountsTable />);
    const table = await screen.findByRole("table", { name: "Cloud accounts" });
    const markers = within(table).getAllByRole("img", { name: "Uses plain http: its traffic can be read on the network" });
    expect(markers).toHaveLength(1);
    expect(markers[0]!.textContent).toBe("plain http");
    expect(markers[0]!.closest("tr")?.getAttribute("data-account-name")).toBe("Plant");
  });
});
