// Conversions for the appointment dialog between Unix ms and <input type="datetime-local"> values (local
// time, minute precision), the pickers' bounds and a window to start from. Whether a window keeps Quectel's
// rules is Rust's call (checkQuectelAppointment in api.ts): nothing here decides it.

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-05-01T22:00": a datetime-local value for this instant, in local time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The instant a datetime-local value names (local time), or null for an empty or malformed value. */
export function fromLocalInput(value: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  return Number.isNaN(date.getTime()) ? null : date.getTime();
}

function ceilToMinute(ms: number): number {
  return Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
}

function floorToMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/** min/max for the pickers: the plan period, on whole minutes inside it. */
export function pickerBounds(periodStart: number | null, periodEnd: number | null): { min?: string; max?: string } {
  return {
    min: periodStart === null ? undefined : toLocalInput(ceilToMinute(periodStart)),
    max: periodEnd === null ? undefined : toLocalInput(floorToMinute(periodEnd)),
  };
}

/**
 * A window to start from: the next whole hour (or the period's start, if later) for two hours, shortened
 * to fit the period's end. It may still break a rule when the period is short; Rust's check says so.
 */
export function suggestWindow(
  periodStart: number | null,
  periodEnd: number | null,
  now: number,
): { start: number; end: number } {
  const nextHour = (Math.floor(now / HOUR_MS) + 1) * HOUR_MS;
  let start = Math.max(nextHour, periodStart === null ? nextHour : ceilToMinute(periodStart));
  let end = start + 2 * HOUR_MS;
  if (periodEnd !== null && end > periodEnd) {
    end = floorToMinute(periodEnd);
    start = Math.max(periodStart === null ? end - HOUR_MS : ceilToMinute(periodStart), end - 2 * HOUR_MS);
  }
  return { start, end };
}
