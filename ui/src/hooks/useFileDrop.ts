import { getCurrentWebview } from "@tauri-apps/api/webview";
import { useEffect, useRef, useState } from "react";

/**
 * Follows files dragged onto the window (Tauri gives their paths, which a browser drop would not):
 * answers true while one is over it, and calls `onDrop` with the first dropped path.
 */
export function useFileDrop(onDrop: (path: string) => void): boolean {
  const [over, setOver] = useState(false);
  const latest = useRef(onDrop);
  useEffect(() => {
    latest.current = onDrop;
  }, [onDrop]);

  useEffect(() => {
    let stop: (() => void) | null = null;
    let disposed = false;
    try {
      getCurrentWebview()
        .onDragDropEvent((event) => {
          const payload = event.payload;
          if (payload.type === "enter" || payload.type === "over") setOver(true);
          else if (payload.type === "leave") setOver(false);
          else if (payload.type === "drop") {
            setOver(false);
            const first = payload.paths[0];
            if (first) latest.current(first);
          }
        })
        .then((unlisten) => {
          if (disposed) unlisten();
          else stop = unlisten;
        })
        .catch(() => {
          // No webview to listen to: dropping is simply not offered.
        });
    } catch {
      // Outside the app shell (plain browser, tests) there is no webview.
    }
    return () => {
      disposed = true;
      stop?.();
    };
  }, []);
  return over;
}
