import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { makeFirmware } from "../test/campaignFixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { FirmwareView } from "./FirmwareView";

describe("deleting firmware", () => {
  it("asks first, and shows a conflict from the engine as a refusal with its reason", async () => {
    mockCommands({
      list_firmware: () => [makeFirmware({ id: 5, fileName: "cam.bin", version: "7.7.7", campaigns: 0 })],
      delete_firmware: () => {
        throw { code: "conflict", message: "cam.bin 7.7.7 is used by 1 campaign; delete it first." };
      },
    });
    renderWithQueries(<FirmwareView />);
    const user = userEvent.setup();
    const del = await screen.findByRole("button", { name: "Delete cam.bin 7.7.7" });
    expect(del.getAttribute("aria-disabled")).toBe("false");
    await user.click(del);
    const question = screen.getByRole("alertdialog", { name: "Delete cam.bin 7.7.7?" });
    expect(callsOf("delete_firmware")).toEqual([]);
    await user.click(within(question).getByRole("button", { name: "Delete" }));
    expect(callsOf("delete_firmware")).toEqual([{ id: 5 }]);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("used by 1 campaign");
    expect(screen.getByText("Not deleted: it is still in use.")).toBeTruthy();
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });

  it("explains why an entry in use cannot be deleted, and does not ask", async () => {
    mockCommands({ list_firmware: () => [makeFirmware({ fileName: "cam.bin", version: "7.7.7", campaigns: 3 })] });
    renderWithQueries(<FirmwareView />);
    const del = await screen.findByRole("button", { name: "Delete cam.bin 7.7.7" });
    expect(del.getAttribute("aria-disabled")).toBe("true");
    expect(del.getAttribute("aria-describedby")).toBeTruthy();
    expect(document.getElementById(del.getAttribute("aria-describedby")!)?.textContent).toBe(
      "Used by 3 campaign(s): delete those campaigns first.",
    );
    await userEvent.setup().click(del);
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });
});
