// Unit tests run without the Tauri shell: the IPC modules are mocked here, once for every test file, and
// each test answers commands with mockCommands(). jsdom has no layout, so elements get a size for the
// virtualized table and scrolling is stubbed.
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";

import { forgetListeners } from "./events";

vi.mock("@tauri-apps/api/core", () => ({
  invoke: vi.fn(async (command: string) => {
    throw { code: "internal", message: `no mock for ${command}` };
  }),
  Channel: class Channel<T> {
    onmessage: (message: T) => void = () => {};
  },
}));

vi.mock("@tauri-apps/api/event", async () => {
  const { listen } = await import("./events");
  return { listen: vi.fn(listen) };
});

vi.mock("@tauri-apps/plugin-notification", () => ({
  isPermissionGranted: vi.fn(async () => false),
  requestPermission: vi.fn(async () => "denied"),
  sendNotification: vi.fn(),
}));

vi.mock("@tauri-apps/api/webview", async () => {
  const { onDragDropEvent } = await import("./webview");
  return { getCurrentWebview: () => ({ onDragDropEvent }) };
});

Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 720 });
Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1000 });
Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 36 });
Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 1000 });
if (!Element.prototype.scrollTo) {
  Element.prototype.scrollTo = function scrollTo(this: Element, options?: ScrollToOptions | number) {
    if (typeof options === "object" && options.top !== undefined) this.scrollTop = options.top;
  } as Element["scrollTo"];
}

afterEach(() => {
  cleanup();
  forgetListeners();
});
