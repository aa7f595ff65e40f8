// Events from the Rust side without the Tauri shell: components listen as they would to the app, and tests
// send events with emitEvent().

type Handler = (event: { event: string; payload: unknown }) => void;

const listeners = new Map<string, Set<Handler>>();

export async function listen(event: string, handler: Handler): Promise<() => void> {
  const set = listeners.get(event) ?? new Set<Handler>();
  set.add(handler);
  listeners.set(event, set);
  return () => set.delete(handler);
}

/** Sends `payload` to every listener of `event`, as the Rust side's emit would. */
export function emitEvent(event: string, payload: unknown): void {
  for (const handler of [...(listeners.get(event) ?? [])]) handler({ event, payload });
}

export function forgetListeners(): void {
  listeners.clear();
}
