import { getCurrentWebview } from "@tauri-apps/api/webview";
import { useEffect, useRef, useState } from "react";

import { onFileDropped } from "../api";
import type { ChosenFile } from "../bindings/ChosenFile";

/**
 * Follows files dragged onto the window: answers true while one is over it, and calls `onDrop` with the
 * file Rust took in for the drop (a one-time handle and its name; the window never uses a dropped path).
 */
export function useFileDrop(onDrop: (file: ChosenFile) => void): boolean {
  const [over, setOver] = useState(false);
  const latest = useRef(onDrop);
  useEffect(() => {
    latest.current = onDrop;
  }, [onDrop]);

  useEffect(() => {
    const stops: (() => void)[] = [];
    let disposed = false;
    const keep = (unlisten: () => void) => {
      if (disposed) unlisten();
      else stops.push(unlisten);
    };
    // The hint while dragging comes from the webview's own events.
    try {
      getCurrentWebview()
        .onDragDropEvent((event) => {
          const type = event.payload.type;
          if (type === "enter" || type === "over") setOver(true);
          else setOver(false);
        })
        .then(keep)
        .catch(() => {
          // No webview to listen to: dropping is simply not offered.
        });
    } catch {
      // Outside the app shell (plain browser, tests) there is no webview.
    }
    // The dropped file itself comes from Rust.
    onFileDropped((file) => latest.current(file))
      .then(keep)
      .catch(() => {});
    return () => {
      disposed = true;
      for (const stop of stops) stop();
    };
  }, []);
  return over;
}
