import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { makeDevice } from "../test/fixtures";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { GroupSelection } from "./GroupSelection";

const selected = [makeDevice(1), makeDevice(2, { accountId: 2, cloud: "quectel" })];
const keys = [
  { accountId: 1, deviceId: "SN000001" },
  { accountId: 2, deviceId: "SN000002" },
];

describe("grouping the selection", () => {
  it("tags the ticked devices of any cloud and says how many changed", async () => {
    mockCommands({ tag_devices: () => 2 });
    renderWithQueries(<GroupSelection selected={selected} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Tag" }), "pilot");
    await user.click(screen.getByRole("button", { name: "Add tag" }));
    expect(callsOf("tag_devices")).toEqual([{ devices: keys, add: ["pilot"], remove: [] }]);
    expect((await screen.findByRole("status")).textContent).toBe("Tagged 2 devices \u201cpilot\u201d.");
    await user.click(screen.getByRole("button", { name: "Remove tag" }));
    expect(callsOf("tag_devices")[1]).toEqual({ devices: keys, add: [], remove: ["pilot"] });
  });

  it("saves the selection as a fixed cohort, and shows Rust's refusal of a name as it is", async () => {
    let calls = 0;
    mockCommands({
      create_cohort: () => {
        calls += 1;
        if (calls === 1) throw { code: "validation", message: "A cohort named Pilot already exists." };
        return { id: 4, name: "Pilot 2", kind: "static", deviceCount: 2, createdAt: 0, createdBy: "ana" };
      },
    });
    renderWithQueries(<GroupSelection selected={selected} />);
    const user = userEvent.setup();
    const name = screen.getByRole("textbox", { name: "Cohort name" });
    await user.type(name, "Pilot");
    await user.click(screen.getByRole("button", { name: "Save 2 as cohort" }));
    expect((await screen.findByRole("alert")).textContent).toContain("already exists");
    await user.clear(name);
    await user.type(name, "Pilot 2");
    await user.click(screen.getByRole("button", { name: "Save 2 as cohort" }));
    expect(callsOf("create_cohort")[1]).toEqual({ cohort: { name: "Pilot 2", definition: { kind: "static", devices: keys } } });
    expect((await screen.findByRole("status")).textContent).toBe("Saved cohort \u201cPilot 2\u201d (2 devices).");
  });
});
