import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Account } from "../bindings/Account";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { ImportDevicesForm } from "./ImportDevicesForm";
import { expectAlertSaying } from "../test/alerts";

function onenetAccount(id: number, name: string): Account {
  return { id, name, cloud: "onenet", baseUrl: "http://127.0.0.1:1", region: null, username: `p${id}`, sandbox: false, allowHttp: false, createdAt: 0 };
}

const ACCOUNTS: Account[] = [
  { id: 1, name: "Cameras", cloud: "vicohome", baseUrl: "http://127.0.0.1:1", region: "us", username: "a@b.c", sandbox: false, allowHttp: false, createdAt: 0 },
  onenetAccount(4, "Pumps"),
  onenetAccount(9, "Meters"),
];

describe("import OneNET devices", () => {
  it("sends the CSV text with the chosen account and says how many were imported", async () => {
    const user = userEvent.setup();
    mockCommands({ list_accounts: () => ACCOUNTS, import_devices: () => 2 });
    renderWithQueries(<ImportDevicesForm />);
    const account = await screen.findByLabelText<HTMLSelectElement>("OneNET account");
    // Only OneNET accounts are offered.
    expect(Array.from(account.options).map((o) => o.textContent)).toEqual(["Pumps", "Meters"]);
    await user.selectOptions(account, "Meters");
    const text = screen.getByLabelText<HTMLTextAreaElement>("Devices (CSV)");
    await user.type(text, "527776559,Pump 1{Enter}527776560");
    await user.click(screen.getByRole("button", { name: "Import devices" }));

    expect(await screen.findByText("Imported 2 devices.")).toBeTruthy();
    expect(callsOf("import_devices")).toEqual([{ accountId: 9, csv: "527776559,Pump 1\n527776560" }]);
    expect(text.value).toBe("");
  });

  it("fills the list from a CSV file Rust reads after its own file dialog, and shows a refused file", async () => {
    const user = userEvent.setup();
    let answer: () => unknown = () => ({ fileName: "pumps.csv", text: "527776559,Pump 1\n527776560,Pump 2\n" });
    mockCommands({ list_accounts: () => ACCOUNTS, choose_device_csv: () => answer(), import_devices: () => 2 });
    renderWithQueries(<ImportDevicesForm />);
    await user.click(await screen.findByRole("button", { name: "Choose CSV file…" }));
    const text = screen.getByLabelText<HTMLTextAreaElement>("Devices (CSV)");
    await waitFor(() => expect(text.value).toBe("527776559,Pump 1\n527776560,Pump 2\n"));
    expect(screen.getByText("pumps.csv")).toBeTruthy();
    expect(callsOf("choose_device_csv")).toEqual([{}]);
    await user.click(screen.getByRole("button", { name: "Import devices" }));
    expect(await screen.findByText("Imported 2 devices.")).toBeTruthy();
    expect(callsOf("import_devices")).toEqual([{ accountId: 4, csv: "527776559,Pump 1\n527776560,Pump 2\n" }]);

    answer = () => {
      throw { code: "validation", message: "zero is not a regular file (a device, pipe or socket); choose a file." };
    };
    await user.click(screen.getByRole("button", { name: "Choose CSV file…" }));
    expect((await screen.findByRole("alert")).textContent).toContain("not a regular file");
    expect(text.value).toBe("");
  });

  it("shows the ApiError and keeps the text when the import is refused", async () => {
    const user = userEvent.setup();
    mockCommands({
      list_accounts: () => ACCOUNTS,
      import_devices: () => {
        throw { code: "validation", message: "Line 2: dev_id must be a number.", hint: "Fix the line and import again." };
      },
    });
    renderWithQueries(<ImportDevicesForm />);
    const text = await screen.findByLabelText<HTMLTextAreaElement>("Devices (CSV)");
    await user.type(text, "abc");
    await user.click(screen.getByRole("button", { name: "Import devices" }));

    await expectAlertSaying(["Line 2: dev_id must be a number.", "Fix the line and import again."]);
    expect(text.value).toBe("abc");
    expect(callsOf("import_devices")).toEqual([{ accountId: 4, csv: "abc" }]);
    expect(screen.queryByText(/Imported/)).toBeNull();
  });

  it("asks for a OneNET account first when there is none", async () => {
    mockCommands({ list_accounts: () => [ACCOUNTS[0]!] });
    renderWithQueries(<ImportDevicesForm />);
    await waitFor(() => expect(screen.getByText("Add a OneNET account first.")).toBeTruthy());
  });
});
