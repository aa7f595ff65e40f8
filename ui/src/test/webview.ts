// The window's drag-and-drop events without the Tauri shell: components subscribe as they would to the
// webview, and tests play the events with emitDragDrop().

type Payload =
  | { type: "enter"; paths: string[]; position: { x: number; y: number } }
  | { type: "over"; position: { x: number; y: number } }
  | { type: "drop"; paths: string[]; position: { x: number; y: number } }
  | { type: "leave" };
type Handler = (event: { payload: Payload }) => void;

const handlers = new Set<Handler>();

export async function onDragDropEvent(handler: Handler): Promise<() => void> {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

export function emitDragDrop(payload: Payload): void {
  for (const handler of [...handlers]) handler({ payload });
}
