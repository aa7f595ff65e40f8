// Routes mocked `invoke` calls to per-command handlers, like the Rust side would answer them.

import { invoke } from "@tauri-apps/api/core";
import { vi } from "vitest";

type Handler = (args: Record<string, unknown>) => unknown;

export function mockCommands(handlers: Record<string, Handler>) {
  const mocked = vi.mocked(invoke);
  mocked.mockImplementation(async (command: string, args?: unknown) => {
    const handler = handlers[command];
    if (!handler) throw { code: "not_found", message: `no mock for ${command}` };
    return handler((args ?? {}) as Record<string, unknown>);
  });
  return mocked;
}

/** The arguments of every call to `command`, in order. */
export function callsOf(command: string): Record<string, unknown>[] {
  return vi
    .mocked(invoke)
    .mock.calls.filter(([name]) => name === command)
    .map(([, args]) => (args ?? {}) as Record<string, unknown>);
}
