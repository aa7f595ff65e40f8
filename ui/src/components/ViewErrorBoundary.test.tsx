import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ViewErrorBoundary } from "./ViewErrorBoundary";

let fail = true;
function Fragile() {
  if (fail) throw new Error("Attempted to assign to readonly property.");
  return <p>the view</p>;
}

describe("a view that crashes", () => {
  it("says so inside the view and can be tried again, instead of blanking the window", async () => {
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    render(
      <>
        <nav>still here</nav>
        <ViewErrorBoundary>
          <Fragile />
        </ViewErrorBoundary>
      </>,
    );
    expect(screen.getByRole("alert").textContent).toContain("This view stopped: Attempted to assign to readonly property.");
    expect(screen.getByText("still here")).toBeTruthy();
    fail = false;
    await userEvent.setup().click(screen.getByRole("button", { name: "Try again" }));
    expect(screen.getByText("the view")).toBeTruthy();
    quiet.mockRestore();
  });
});
