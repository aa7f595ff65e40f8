import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { AddAccountForm } from "./AddAccountForm";

const FRESH = { live: true, oldestRefresh: 0, accounts: [] };

describe("add account form", () => {
  it("shows a validation error from the Rust side inline and clears the secret", async () => {
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

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("A base URL must be https:// (http only to this computer).");
    expect(alert.textContent).toContain("Use the https address from the cloud's documentation.");
    expect(password.value).toBe("");
    // What was typed stays, so the user can fix it.
    expect(screen.getByLabelText<HTMLInputElement>("Account name").value).toBe("Field");
    expect(callsOf("add_account")).toEqual([
      {
        account: {
          name: "Field",
          cloud: "vicohome",
          baseUrl: "http://api.example.com",
          region: "us",
          username: "tech@example.com",
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
      account: { name: "Plant", cloud: "onenet", baseUrl: "https://ota.heclouds.com", username: "12345" },
      secret: "c2VjcmV0",
    });
    await waitFor(() => expect(callsOf("refresh_fleet").length).toBe(1));
  });

  it("switches the Vicohome base URL with the region", async () => {
    const user = userEvent.setup();
    renderWithQueries(<AddAccountForm />);
    expect(screen.getByLabelText<HTMLInputElement>("Base URL").value).toBe("https://api-us.vicohome.io");
    await user.selectOptions(screen.getByLabelText("Region"), "eu");
    expect(screen.getByLabelText<HTMLInputElement>("Base URL").value).toBe("https://api-eu.vicohome.io");
  });
});
