// Turns what the New campaign form holds into the NewCampaign the engine checks (and back to words).

import type { Cloud } from "../bindings/Cloud";
import type { ErrorKind } from "../bindings/ErrorKind";
import type { NewCampaign } from "../bindings/NewCampaign";
import type { MessageKey } from "../i18n";

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
  /** Which devices: the search filter above, or a saved cohort. */
  targetKind: "filter" | "cohort";
  cohortId: number | null;
  /** Whether the chosen cohort is dynamic (a saved filter): only then may the campaign be continuous. */
  cohortDynamic: boolean;
  /** Rules (minutes in the form; seconds to the engine). */
  bakeMinutes: string;
  gate: "auto" | "manual";
  /** "" = no per-device timeout. */
  deviceTimeoutMinutes: string;
  verifyVersion: boolean;
  requireApproval: boolean;
  continuous: boolean;
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
    targetKind: "filter",
    cohortId: null,
    cohortDynamic: false,
    bakeMinutes: "0",
    gate: "auto",
    deviceTimeoutMinutes: "",
    verifyVersion: true,
    requireApproval: false,
    continuous: false,
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

/** A number field the engine could not read (it takes whole, unsigned numbers where the type says so). */
export interface NumberProblem {
  /** The field's label. */
  field: MessageKey;
  min: number;
  max: number;
  whole: boolean;
}

const NUMBER_FIELDS: ReadonlyArray<{
  key: "concurrency" | "rate" | "threshold" | "maxRetries" | "backoff" | "minBattery" | "bakeMinutes";
  field: MessageKey;
  min: number;
  max: number;
  whole: boolean;
}> = [
  { key: "concurrency", field: "form.concurrency", min: 1, max: 2_000, whole: true },
  { key: "rate", field: "form.rate", min: 0.1, max: 10_000, whole: false },
  { key: "threshold", field: "form.threshold", min: 0, max: 100, whole: false },
  { key: "maxRetries", field: "form.retries", min: 0, max: 10, whole: true },
  { key: "backoff", field: "form.backoff", min: 0, max: 86_400, whole: true },
  { key: "minBattery", field: "form.minBattery", min: 0, max: 100, whole: true },
  { key: "bakeMinutes", field: "form.bake", min: 0, max: 30 * 24 * 60, whole: true },
];

/** The first number field that is empty, not a number, fractional where it must be whole, or out of range. */
export function numberProblem(form: CampaignFormState): NumberProblem | null {
  for (const { key, ...rule } of NUMBER_FIELDS) {
    const text = form[key].trim();
    const n = Number(text);
    const bad = text === "" || !Number.isFinite(n) || (rule.whole && !Number.isInteger(n)) || n < rule.min || n > rule.max;
    if (bad) return rule;
  }
  const timeout = form.deviceTimeoutMinutes.trim();
  if (timeout !== "") {
    const n = Number(timeout);
    if (!Number.isInteger(n) || n < 1 || n > 7 * 24 * 60) return { field: "form.deviceTimeout", min: 1, max: 7 * 24 * 60, whole: true };
  }
  return null;
}

/** True when "continuous" is ticked for targets that cannot grow (a fixed cohort). */
export function continuousNotAllowed(form: CampaignFormState): boolean {
  return form.continuous && form.targetKind === "cohort" && !form.cohortDynamic;
}

/** True when the window is on but one of its times is missing. */
export function windowIncomplete(form: CampaignFormState): boolean {
  return form.useWindow && (form.windowOpens === "" || form.windowCloses === "");
}

/** The NewCampaign for the form; null while a field cannot be sent as it is (the form says which). */
export function toNewCampaign(form: CampaignFormState, utcOffset = localUtcOffset()): NewCampaign | null {
  const waves = parseWaves(form.waves);
  if (!waves || form.firmwareId === null || numberProblem(form) || windowIncomplete(form)) return null;
  if (form.targetKind === "cohort" && form.cohortId === null) return null;
  const num = (text: string) => Number(text.trim());
  const startAt = form.startAt ? new Date(form.startAt).getTime() : NaN;
  return {
    name: form.name.trim(),
    firmwareId: form.firmwareId,
    targets:
      form.targetKind === "cohort" && form.cohortId !== null
        ? { kind: "cohort", cohortId: form.cohortId }
        : {
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
    rules: {
      bakeSecs: num(form.bakeMinutes) * 60,
      gate: form.gate,
      ...(form.deviceTimeoutMinutes.trim() !== "" ? { deviceTimeoutSecs: num(form.deviceTimeoutMinutes) * 60 } : {}),
      verifyVersion: form.verifyVersion,
      requireApproval: form.requireApproval,
      continuous: form.continuous,
    },
    settings: {
      waves,
      concurrency: num(form.concurrency),
      requestsPerSecond: num(form.rate),
      failureThresholdPercent: num(form.threshold),
      onThreshold: form.onThreshold,
      retry: {
        maxRetries: num(form.maxRetries),
        backoffSecs: num(form.backoff),
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
      minBattery: num(form.minBattery),
    },
  };
}
