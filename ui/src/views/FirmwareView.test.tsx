import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { makeFirmware } from "../test/campaignFixtures";
import { renderWithQueries } from "../test/render";
import { emitEvent } from "../test/events";
import { callsOf, mockCommands } from "../test/tauri";
import { emitDragDrop } from "../test/webview";
import { FirmwareView } from "./FirmwareView";

const realAccount = { id: 9, name: "Field team", cloud: "vicohome", baseUrl: "https://api-us.vicohome.io", region: null, username: "a@b.c", sandbox: false, allowHttp: false, createdAt: 0 };
const sandboxAccount = { ...realAccount, id: 1, name: "Sandbox Vicohome", baseUrl: "http://127.0.0.1:1", sandbox: true };

describe("firmware library", () => {
  it("adds a file chosen in the file dialog Rust opens, by its one-time handle, with version, cloud, model and notes", async () => {
    const entries = [makeFirmware({ id: 1, fileName: "old.bin", version: "1.0.0", campaigns: 2 })];
    mockCommands({
      list_firmware: () => entries,
      choose_firmware_file: () => ({ handle: "h-1", fileName: "fw.bin" }),
      add_firmware: ({ firmware }) => {
        const f = firmware as { version: string };
        return { entry: makeFirmware({ id: 2, fileName: "fw.bin", version: f.version }), created: true, deduplicated: true };
      },
    });
    renderWithQueries(<FirmwareView />);
    const table = await screen.findByRole("table", { name: "Firmware library" });
    expect(table.textContent).toContain("old.bin");
    // In use by campaigns: delete is visibly unavailable, with the reason.
    const del = within(table).getByRole("button", { name: "Delete old.bin 1.0.0" });
    expect(del.getAttribute("aria-disabled")).toBe("true");
    expect(del.getAttribute("title")).toContain("2 campaign");

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Add firmware" }));
    const dialog = screen.getByRole("dialog", { name: "Add firmware" });
    const file = within(dialog).getByLabelText("Firmware file") as HTMLInputElement;
    // Nothing can be typed there: the file comes from the dialog or a drop.
    expect(file.readOnly).toBe(true);
    await user.click(within(dialog).getByRole("button", { name: "Choose file…" }));
    expect(file.value).toBe("fw.bin");
    await user.type(within(dialog).getByLabelText("Version"), "2.4.1");
    await user.selectOptions(within(dialog).getByLabelText("Cloud"), "quectel");
    await user.type(within(dialog).getByLabelText("Model (optional)"), "Smart Plug");
    await user.type(within(dialog).getByLabelText("Notes"), "night build");
    await user.click(within(dialog).getByRole("button", { name: "Add to library" }));
    expect(await within(dialog).findByText(/Same bytes already stored/)).toBeTruthy();
    expect(callsOf("add_firmware")).toEqual([
      { file: "h-1", firmware: { version: "2.4.1", cloud: "quectel", model: "Smart Plug", notes: "night build" } },
    ]);
    // The handle is used up: the next package is chosen anew.
    expect(file.value).toBe("");
  });

  it("sends nothing without a chosen file, and keeps the form when the dialog is closed", async () => {
    mockCommands({ list_firmware: () => [], choose_firmware_file: () => null });
    renderWithQueries(<FirmwareView />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Add firmware" }));
    const dialog = screen.getByRole("dialog", { name: "Add firmware" });
    await user.type(within(dialog).getByLabelText("Version"), "2.4.1");
    await user.click(within(dialog).getByRole("button", { name: "Choose file…" }));
    await user.click(within(dialog).getByRole("button", { name: "Add to library" }));
    expect((await within(dialog).findByRole("alert")).textContent).toContain("Choose the firmware file");
    expect(callsOf("add_firmware")).toEqual([]);
    expect((within(dialog).getByLabelText("Version") as HTMLInputElement).value).toBe("2.4.1");
  });

  it("shows why a real cloud cannot be published to, and publishes to the sandbox", async () => {
    let published = false;
    mockCommands({
      list_firmware: () => [makeFirmware({ fileName: "cam.bin", version: "7.7.7" })],
      list_accounts: () => [realAccount, sandboxAccount],
      publish_firmware: ({ accountId }) => {
        if (accountId === 9) {
          throw {
            code: "validation",
            message: "Vicohome publishes no API for uploading firmware, so OTA Console cannot publish it there.",
            hint: "Vicohome releases firmware through its own release process.",
          };
        }
        published = true;
        return makeFirmware({
          publications: [{ accountId: 1, accountName: "Sandbox Vicohome", publishedAt: 0, detail: "offered to 3 cameras" }],
        });
      },
    });
    renderWithQueries(<FirmwareView />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Publish cam.bin 7.7.7" }));
    const dialog = screen.getByRole("dialog", { name: "Publish cam.bin 7.7.7" });
    const account = (await within(dialog).findByLabelText("Account")) as HTMLSelectElement;
    expect(Array.from(account.options).map((o) => o.textContent)).toEqual(["Sandbox Vicohome (sandbox)", "Field team"]);
    await user.selectOptions(account, "9");
    await user.click(within(dialog).getByRole("button", { name: "Publish" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("publishes no API for uploading firmware");
    expect(alert.textContent).toContain("its own release process");
    await user.selectOptions(account, "1");
    await user.click(within(dialog).getByRole("button", { name: "Publish" }));
    expect(await within(dialog).findByText("Published to Sandbox Vicohome: offered to 3 cameras")).toBeTruthy();
    expect(published).toBe(true);
  });

  it("hints while a file is dragged over the window and opens the add dialog with the file Rust took in", async () => {
    mockCommands({
      list_firmware: () => [],
      add_firmware: ({ firmware }) => ({
        entry: makeFirmware({ fileName: "other.bin", version: (firmware as { version: string }).version }),
        created: false,
        deduplicated: false,
      }),
    });
    renderWithQueries(<FirmwareView />);
    await screen.findByText(/The library is empty/);
    const position = { x: 10, y: 10 };
    act(() => emitDragDrop({ type: "enter", paths: ["/tmp/drop.bin"], position }));
    expect(screen.getByText("Drop the firmware file to add it to the library")).toBeTruthy();
    act(() => emitDragDrop({ type: "drop", paths: ["/tmp/drop.bin"], position }));
    expect(screen.queryByText("Drop the firmware file to add it to the library")).toBeNull();
    // The webview's own drop event opens nothing: the file comes from Rust, as a handle.
    expect(screen.queryByRole("dialog", { name: "Add firmware" })).toBeNull();
    act(() => emitEvent("file-dropped", { handle: "h-drop", fileName: "drop.bin" }));
    let dialog = screen.getByRole("dialog", { name: "Add firmware" });
    expect((within(dialog).getByLabelText("Firmware file") as HTMLInputElement).value).toBe("drop.bin");

    // A second file dropped while the dialog is open replaces the first.
    act(() => emitEvent("file-dropped", { handle: "h-other", fileName: "other.bin" }));
    dialog = screen.getByRole("dialog", { name: "Add firmware" });
    expect((within(dialog).getByLabelText("Firmware file") as HTMLInputElement).value).toBe("other.bin");

    const user = userEvent.setup();
    await user.type(within(dialog).getByLabelText("Version"), "1.2.3");
    await user.click(within(dialog).getByRole("button", { name: "Add to library" }));
    expect(await within(dialog).findByText(/Already in the library/i)).toBeTruthy();
    expect(callsOf("add_firmware")).toEqual([{ file: "h-other", firmware: { version: "1.2.3", cloud: "vicohome" } }]);
  });
});
