import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { checkQuectelAppointment, toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { QuectelWindow } from "../bindings/QuectelWindow";
import { queryKeys } from "../queryKeys";
import { useDebouncedValue } from "./useDebouncedValue";

/** Rust is asked once the pickers rest this long, not at every keystroke. */
export const APPOINTMENT_CHECK_DEBOUNCE_MS = 300;

/** Rust's answer for one window: the rule it breaks, or null. */
export interface AppointmentVerdict {
  window: QuectelWindow;
  problem: ApiError | null;
}

/**
 * Whether the picked window keeps Quectel's appointment rules, as Rust's check answers (the rules live there
 * alone). The answer may be for the window picked a moment ago while the newest one is being checked: the
 * dialog keeps showing it, so the reason and the submit button always change together.
 */
export function useAppointmentCheck(
  planStart: number | null,
  planEnd: number | null,
  start: number | null,
  end: number | null,
): { verdict: AppointmentVerdict | null; error: ApiError | null } {
  // A string, so an unchanged window does not restart the wait.
  const asked = useDebouncedValue(start !== null && end !== null ? `${start}/${end}` : null, APPOINTMENT_CHECK_DEBOUNCE_MS);
  const query = useQuery({
    queryKey: queryKeys.quectelAppointmentCheck(planStart, planEnd, asked ?? ""),
    queryFn: async (): Promise<AppointmentVerdict> => {
      const [startMs, endMs] = (asked ?? "").split("/").map(Number) as [number, number];
      const window = { startMs, endMs };
      return { window, problem: await checkQuectelAppointment(planStart, planEnd, window) };
    },
    enabled: asked !== null,
    placeholderData: keepPreviousData,
    staleTime: Infinity,
  });
  return { verdict: query.data ?? null, error: query.error ? toApiError(query.error) : null };
}
