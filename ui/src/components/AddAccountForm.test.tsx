import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { AddAccountForm } from "./AddAccountForm";
import { expectAlertSaying } from "../test/alerts";

const FRESH = { live: true, oldestRefresh: 0, accounts: [] };

describe("add account form", () => {
  it("shows a validation error from the Rust side inline and keeps the form filled", async () => {
    const user = userEvent.setup();
    mockCommands({
      add_account: () => {
        throw {
          code: "validation",
          message: "A base URL must be https:// (http only to this computer).",
          hint: "Use the https address from the cloud's documentation.",
        };
      },
    });
    renderWithQueries(<AddAccountForm />);

    await user.type(screen.getByLabelText("Account name"), "Field");
    const baseUrl = screen.getByLabelText("Base URL");
    await user.clear(baseUrl);
    await user.type(baseUrl, "http://api.example.com");
    await user.type(screen.getByLabelText("E-mail"), "tech@example.com");
    const password = screen.getByLabelText<HTMLInputElement>("Password");
    await user.type(password, "hunter2");
    await user.click(screen.getByRole("button", { name: "Add account" }));

    await expectAlertSaying([
      "A base URL must be https:// (http only to this computer).",
      "Use the https address from the cloud's documentation.",
    ]);
    // What was typed stays, so the user can fix the one thing that is wrong and add again.
    expect(password.value).toBe("hunter2");
    expect(screen.getByLabelText<HTMLInputElement>("Account name").value).toBe("Field");
    expect(screen.getByLabelText<HTMLInputElement>("Base URL").value).toBe("http://api.example.com");
    expect(callsOf("add_account")).toEqual([
      {
        account: {
          name: "Field",
          cloud: "vicohome",
          baseUrl: "http://api.example.com",
          region: "us",
          username: "tech@example.com",
          allowHttp: false,
        },
        secret: "hunter2",
      },
    ]);
  });

  it("adds the account, clears the secret and refreshes the fleet", async () => {
    const user = userEvent.setup();
    mockCommands({
      add_account: (args) => ({
        id: 9,
        ...(args.account as object),
        region: null,
        username: "12345",
        sandbox: false,
        createdAt: 0,
      }),
      refresh_fleet: () => FRESH,
    });
    renderWithQueries(<AddAccountForm />);

    await user.selectOptions(screen.getByRole("combobox", { name: "Cloud" }), "onenet");
    expect(screen.getByLabelText<HTMLInputElement>("Base URL").value).toBe("https://ota.heclouds.com");
    expect(screen.queryByLabelText("Password")).toBeNull();
    await user.type(screen.getByLabelText("Account name"), "Plant");
    await user.type(screen.getByLabelText("Product ID"), "12345");
    const key = screen.getByLabelText<HTMLInputElement>("Access key");
    await user.type(key, "c2VjcmV0");
    await user.click(screen.getByRole("button", { name: "Add account" }));

    expect((await screen.findByRole("status")).textContent).toBe("Account “Plant” added.");
    expect(key.value).toBe("");
    expect(callsOf("add_account")[0]).toEqual({
      account: { name: "Plant", cloud: "onenet", baseUrl: "https://ota.heclouds.com", username: "12345", allowHttp: false },
      secret: "c2VjcmV0",
    });
    await waitFor(() => expect(callsOf("refresh_fleet").length).toBe(1));
  });

  it("offers plain http for OneNET only, says what it means, and sends the choice", async () => {
    const user = userEvent.setup();
    mockCommands({
      add_account: (args) => ({ id: 3, ...(args.account as object), region: null, sandbox: false, createdAt: 0 }),
      refresh_fleet: () => FRESH,
    });
    renderWithQueries(<AddAccountForm />);
    expect(screen.queryByRole("checkbox", { name: "Allow plain http" })).toBeNull();

    await user.selectOptions(screen.getByRole("combobox", { name: "Cloud" }), "onenet");
    const box = screen.getByRole<HTMLInputElement>("checkbox", { name: "Allow plain http" });
    expect(box.checked).toBe(false);
    const note = document.getElementById(box.getAttribute("aria-describedby") ?? "");
    expect(note?.textContent).toContain("access key itself is never sent");
    expect(note?.textContent).toContain("time-limited token");
    expect(note?.textContent).toContain("can read the traffic");

    await user.type(screen.getByLabelText("Account name"), "Plant");
    const baseUrl = screen.getByLabelText("Base URL");
    await user.clear(baseUrl);
    await user.type(baseUrl, "http://ota.heclouds.com");
    await user.type(screen.getByLabelText("Product ID"), "12345");
    await user.type(screen.getByLabelText("Access key"), "c2VjcmV0");
    await user.click(box);
    await user.click(screen.getByRole("button", { name: "Add account" }));
    await screen.findByText("Account “Plant” added.");
    expect((callsOf("add_account")[0]!.account as { allowHttp: boolean }).allowHttp).toBe(true);
    // Back to the safe default for the next account.
    expect(screen.getByRole<HTMLInputElement>("checkbox", { name: "Allow plain http" }).checked).toBe(false);

    // Another cloud never sends the opt-in, and hides the box.
    await user.click(screen.getByRole("checkbox", { name: "Allow plain http" }));
    await user.selectOptions(screen.getByRole("combobox", { name: "Cloud" }), "quectel");
    expect(screen.queryByRole("checkbox", { name: "Allow plain http" })).toBeNull();
  });

  it("says it is checking the account while signing in, then shows the cloud's refusal and asks for the password again", async () => {
    const user = userEvent.setup();
    let refuse: (reason: unknown) => void = () => {};
    mockCommands({
      add_account: () =>
        new Promise((_, reject) => {
          refuse = reject;
        }),
    });
    renderWithQueries(<AddAccountForm />);
    await user.type(screen.getByLabelText("Account name"), "Field");
    await user.type(screen.getByLabelText("E-mail"), "tech@example.com");
    const password = screen.getByLabelText<HTMLInputElement>("Password");
    await user.type(password, "wrong-password");
    await user.click(screen.getByRole("button", { name: "Add account" }));

    const busy = await screen.findByRole("button", { name: "Checking the account…" });
    expect(busy.getAttribute("aria-busy")).toBe("true");
    expect((busy as HTMLButtonElement).disabled).toBe(true);

    act(() => refuse({ code: "auth", message: "account or password error", hint: "Check the e-mail and password." }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("account or password error");
    expect(screen.getByRole("button", { name: "Add account" })).toBeTruthy();
    expect(screen.queryByRole("status")).toBeNull();
    expect(screen.getByLabelText<HTMLInputElement>("Account name").value).toBe("Field");
    expect(screen.getByLabelText<HTMLInputElement>("E-mail").value).toBe("tech@example.com");
    // The refused password is not kept: the box is empty and has the focus, ready for the right one.
    expect(password.value).toBe("");
    expect(document.activeElement).toBe(password);
  });

  it("switches the Vicohome base URL with the region", async () => {
    const user = userEvent.setup();
    renderWithQueries(<AddAccountForm />);
    expect(screen.getByLabelText<HTMLInputElement>("Base URL").value).toBe("https://api-us.vicohome.io");
    await user.selectOptions(screen.getByLabelText("Region"), "eu");
    expect(screen.getByLabelText<HTMLInputElement>("Base URL").value).toBe("https://api-eu.vicohome.io");
  });
});
