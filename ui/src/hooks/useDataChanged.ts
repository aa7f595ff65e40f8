import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { onDataChanged } from "../api";
import { keysForKind } from "../queryKeys";

/** Refetches the queries of every kind the Rust side says changed (its notices are already batched). */
export function useDataChangedInvalidation(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let disposed = false;
    onDataChanged((change) => {
      for (const kind of change.kinds) {
        for (const queryKey of keysForKind(kind)) {
          void queryClient.invalidateQueries({ queryKey });
        }
      }
    })
      .then((stop) => {
        if (disposed) stop();
        else unlisten = stop;
      })
      .catch(() => {
        // Outside the app shell (plain browser, tests) there is no event bus; queries still work on demand.
      });
    return () => {
      disposed = true;
      unlisten?.();
    };
  }, [queryClient]);
}
