import { screen, within } from "@testing-library/react";
import { expect } from "vitest";

/**
 * Waits for the alert (inside `scope` when given) and checks it says each of `parts` (an ApiError's
 * message, its next step, its vendor code); answers the alert.
 */
export async function expectAlertSaying(parts: string[], scope?: HTMLElement): Promise<HTMLElement> {
  const alert = await (scope ? within(scope) : screen).findByRole("alert");
  for (const part of parts) expect(alert.textContent).toContain(part);
  return alert;
}
