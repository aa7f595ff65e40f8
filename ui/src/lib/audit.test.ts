import { describe, expect, it } from "vitest";

import { NO_AUDIT_FILTERS, toAuditQuery } from "./audit";

describe("audit filters", () => {
  it("leaves empty fields out and reads the times as local", () => {
    expect(toAuditQuery(NO_AUDIT_FILTERS, 0)).toEqual({ limit: 0 });
    expect(
      toAuditQuery(
        { action: " campaign. ", cloud: "onenet", result: "error", text: " SN-1 ", since: "2026-11-01T08:00", until: "2026-11-02T00:00" },
        1000,
      ),
    ).toEqual({
      action: "campaign.",
      cloud: "onenet",
      result: "error",
      text: "SN-1",
      since: new Date(2026, 10, 1, 8, 0).getTime(),
      until: new Date(2026, 10, 2, 0, 0).getTime(),
      limit: 1000,
    });
    expect(toAuditQuery({ ...NO_AUDIT_FILTERS, cloud: "nope", result: "maybe" }, 0)).toEqual({ limit: 0 });
  });
});
