// Pure text formatting for what the window shows. No React here, so every rule is unit-tested.

import type { Cloud } from "../bindings/Cloud";
import type { FleetFreshness } from "../bindings/FleetFreshness";
import { t } from "../i18n";

const MIB = 1024 * 1024;

/** "15.0 MiB" */
export function formatMiB(bytes: number): string {
  return `${(Math.max(0, bytes) / MIB).toFixed(1)} MiB`;
}

/** "22 B", "256.0 KiB", "64.0 MiB": a size in the unit that reads best. */
export function formatSize(bytes: number): string {
  const b = Math.max(0, bytes);
  if (b < 1024) return `${Math.round(b)} B`;
  if (b < MIB) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 1024 * MIB) return `${(b / MIB).toFixed(1)} MiB`;
  return `${(b / (1024 * MIB)).toFixed(2)} GiB`;
}

/** "6.3 / 15.0 MiB", the bytes beside a progress bar (same text as the CLI). */
export function formatBytesProgress(transferred: number, total: number): string {
  const mib = (b: number) => (Math.max(0, b) / MIB).toFixed(1);
  return `${mib(transferred)} / ${mib(total)} MiB`;
}

/** "just now", "3 min ago", "2 h ago", "4 d ago" for a Unix-ms instant relative to `now`. */
export function formatAge(at: number, now: number): string {
  const seconds = Math.max(0, Math.floor((now - at) / 1000));
  if (seconds < 60) return t("age.justNow");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t("age.minutes", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t("age.hours", { n: hours });
  return t("age.days", { n: Math.floor(hours / 24) });
}

/** The first account error, which explains why the list is cached. */
export function firstFreshnessError(freshness: FleetFreshness): string | null {
  for (const account of freshness.accounts) {
    if (account.error) return account.error.message;
  }
  return null;
}

/**
 * The header's freshness line: "Live · updated just now", "Cached · updated 3 min ago · clouds unreachable",
 * "Cached · never refreshed".
 */
export function freshnessText(freshness: FleetFreshness, now: number): string {
  if (freshness.live) {
    const age = freshness.oldestRefresh === null ? t("age.justNow") : formatAge(freshness.oldestRefresh, now);
    return t("freshness.live", { age });
  }
  const parts = [
    freshness.oldestRefresh === null
      ? t("freshness.never")
      : t("freshness.cached", { age: formatAge(freshness.oldestRefresh, now) }),
  ];
  const error = firstFreshnessError(freshness);
  if (error) parts.push(error);
  return parts.join(" · ");
}

export function cloudLabel(cloud: Cloud): string {
  return t(`cloud.${cloud}`);
}

/** "12 May 2025, 14:03" in the user's locale. */
export function formatDateTime(at: number): string {
  return new Date(at).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

/**
 * "500 devices", "1 device", "12 of 500 devices"; "10000+ of 100000 devices" when the store stopped
 * counting matches at its cap (`atLeast`).
 */
export function deviceCountText(matching: number, total: number, atLeast = false): string {
  if (atLeast) return t("devices.countAtLeast", { matching, total });
  if (matching === total) {
    return total === 1 ? t("devices.countOne") : t("devices.countAll", { total });
  }
  return t("devices.countFiltered", { matching, total });
}

/** Clamps a percentage for a progress bar. */
export function clampPercent(percent: number): number {
  if (!Number.isFinite(percent)) return 0;
  return Math.min(100, Math.max(0, Math.round(percent)));
}

/** "45 s", "2 min 5 s", "1 h 3 min" for a span of milliseconds. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return t("duration.hours", { h, m });
  if (m > 0) return t("duration.minutes", { m, s });
  return t("duration.seconds", { s });
}

/** "14:03:27" in the user's locale: the time of one event of a job. */
export function formatTime(at: number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
