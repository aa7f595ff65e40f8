import { QueryClient } from "@tanstack/react-query";

import type { ApiError } from "./bindings/ApiError";

/** Server state lives here; UI state stays in components. The Rust side is local, so no network retries. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (failures, error) => failures < 1 && isTransient(error),
        refetchOnWindowFocus: false,
        staleTime: 10_000,
      },
      mutations: { retry: false },
    },
  });
}

function isTransient(error: unknown): boolean {
  const code = (error as Partial<ApiError> | null)?.code;
  return code === "retryable" || code === "offline" || code === "rate_limited";
}
