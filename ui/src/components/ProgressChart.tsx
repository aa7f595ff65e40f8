import type { ProgressPoint } from "../bindings/ProgressPoint";
import { t } from "../i18n";
import { formatTime } from "../lib/format";

const W = 600;
const H = 160;
const SERIES: ReadonlyArray<{ key: keyof Omit<ProgressPoint, "at">; className: string }> = [
  { key: "succeeded", className: "series-succeeded" },
  { key: "failed", className: "series-failed" },
  { key: "inFlight", className: "series-in-flight" },
  { key: "pending", className: "series-pending" },
];

/** Devices per state over time, as lines (plain SVG); its name reads the latest point. */
export function ProgressChart({ history }: { history: ProgressPoint[] }) {
  const last = history[history.length - 1];
  if (!last || history.length < 1) return <p className="muted">{t("dashboard.chartEmpty")}</p>;
  const first = history[0]!;
  const span = Math.max(1, last.at - first.at);
  const top = Math.max(1, ...history.map((p) => p.succeeded + p.failed + p.inFlight + p.pending));
  const x = (at: number) => ((at - first.at) / span) * W;
  const y = (n: number) => H - (n / top) * H;
  const label = t("dashboard.chartLabel", {
    succeeded: last.succeeded,
    failed: last.failed,
    inFlight: last.inFlight,
    pending: last.pending,
    time: formatTime(last.at),
  });
  return (
    <figure className="progress-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
        {SERIES.map(({ key, className }) => (
          <polyline
            key={key}
            className={className}
            fill="none"
            points={history.map((p) => `${x(p.at).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <figcaption className="chart-legend">
        {SERIES.map(({ key, className }) => (
          <span key={key} className={className}>
            {t(`dashboard.${key}`)}: {last[key]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
