// Turns what the New campaign form holds into the NewCampaign the engine checks (and back to words).

import type { Cloud } from "../bindings/Cloud";
import type { ErrorKind } from "../bindings/ErrorKind";
import type { NewCampaign } from "../bindings/NewCampaign";

export interface CampaignFormState {
  name: string;
  firmwareId: number | null;
  cloud: Cloud | null;
  search: string;
  onlineOnly: boolean;
  waves: string;
  concurrency: string;
  rate: string;
  threshold: string;
  onThreshold: "abort" | "pause";
  maxRetries: string;
  backoff: string;
  retryOn: ErrorKind[];
  minBattery: string;
  useWindow: boolean;
  windowDays: number[];
  windowOpens: string;
  windowCloses: string;
  /** datetime-local value, or "". */
  startAt: string;
}

export function initialForm(): CampaignFormState {
  return {
    name: "",
    firmwareId: null,
    cloud: null,
    search: "",
    onlineOnly: false,
    waves: "1, 10, 100",
    concurrency: "50",
    rate: "20",
    threshold: "10",
    onThreshold: "abort",
    maxRetries: "0",
    backoff: "60",
    retryOn: ["offline", "rate_limited", "retryable"],
    minBattery: "20",
    useWindow: false,
    windowDays: [],
    windowOpens: "22:00",
    windowCloses: "05:00",
    startAt: "",
  };
}

/** Cumulative wave percentages, or null when the text is not a rising list ending at 100. */
export function parseWaves(text: string): number[] | null {
  const parts = text.split(",").map((p) => p.trim().replace(/%$/, "").trim()).filter((p) => p !== "");
  if (parts.length === 0) return null;
  const waves = parts.map(Number);
  if (waves.some((w) => !Number.isFinite(w) || w <= 0 || w > 100)) return null;
  if (waves.some((w, i) => i > 0 && w <= waves[i - 1]!)) return null;
  if (waves[waves.length - 1] !== 100) return null;
  return waves;
}

/** "HH:MM" → minutes after midnight. */
export function minutesOf(time: string): number {
  const [h, m] = time.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The browser's offset from UTC in minutes (east positive), as the engine expects it. */
export function localUtcOffset(at = new Date()): number {
  return -at.getTimezoneOffset();
}

export function formatOffset(minutes: number): string {
  const sign = minutes >= 0 ? "+" : "−";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

const num = (text: string, fallback: number) => {
  const n = Number(text);
  return Number.isFinite(n) ? n : fallback;
};

/** The NewCampaign for the form; null when the waves do not parse (the form says why). */
export function toNewCampaign(form: CampaignFormState, utcOffset = localUtcOffset()): NewCampaign | null {
  const waves = parseWaves(form.waves);
  if (!waves || form.firmwareId === null) return null;
  const startAt = form.startAt ? new Date(form.startAt).getTime() : NaN;
  return {
    name: form.name.trim(),
    firmwareId: form.firmwareId,
    targets: {
      kind: "filter",
      query: {
        search: form.search.trim(),
        ...(form.cloud ? { cloud: form.cloud } : {}),
        status: form.onlineOnly ? "online" : "all",
        sort: "name",
        descending: false,
        offset: 0,
        limit: 0,
      },
    },
    settings: {
      waves,
      concurrency: Math.round(num(form.concurrency, 50)),
      requestsPerSecond: num(form.rate, 20),
      failureThresholdPercent: num(form.threshold, 10),
      onThreshold: form.onThreshold,
      retry: {
        maxRetries: Math.round(num(form.maxRetries, 0)),
        backoffSecs: Math.round(num(form.backoff, 60)),
        retryOn: form.retryOn,
      },
      ...(form.useWindow
        ? {
            window: {
              days: [...form.windowDays].sort((a, b) => a - b),
              startMinute: minutesOf(form.windowOpens),
              endMinute: minutesOf(form.windowCloses),
              utcOffsetMinutes: utcOffset,
            },
          }
        : {}),
      ...(Number.isFinite(startAt) ? { startAt } : {}),
      minBattery: Math.round(num(form.minBattery, 20)),
    },
  };
}
