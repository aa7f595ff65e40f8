import { invoke } from "@tauri-apps/api/core";
import { describe, expect, it, vi } from "vitest";

import { addAccount, listDevices, refreshFleet } from "./api";

describe("api", () => {
  it("passes the command's arguments under their camelCase names", async () => {
    vi.mocked(invoke).mockResolvedValueOnce({ matching: 0, matchingAtLeast: false, total: 0, offset: 0, rows: [] });
    const query = { search: "cam", status: "all", sort: "name", descending: false, offset: 100, limit: 100 } as const;
    await listDevices(query);
    expect(invoke).toHaveBeenCalledWith("list_devices", { query });
  });

  it("passes an ApiError rejection through unchanged", async () => {
    const error = { code: "validation", message: "The base URL must use https.", hint: "Use https://" };
    vi.mocked(invoke).mockRejectedValueOnce(error);
    await expect(addAccount({ name: "a", cloud: "vicohome", baseUrl: "http://x", allowHttp: false }, "pw")).rejects.toEqual(error);
  });

  it("wraps anything else as an internal ApiError", async () => {
    vi.mocked(invoke).mockRejectedValueOnce("window.__TAURI_INTERNALS__ is undefined");
    await expect(refreshFleet()).rejects.toEqual({
      code: "internal",
      message: "window.__TAURI_INTERNALS__ is undefined",
    });
    vi.mocked(invoke).mockRejectedValueOnce(new TypeError("boom"));
    await expect(refreshFleet()).rejects.toEqual({ code: "internal", message: "boom" });
  });
});
