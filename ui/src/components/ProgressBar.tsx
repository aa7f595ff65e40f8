import { clampPercent } from "../lib/format";

interface Props {
  percent: number;
  label: string;
  failed?: boolean;
}

export function ProgressBar({ percent, label, failed = false }: Props) {
  const value = clampPercent(percent);
  return (
    <div
      className={failed ? "progress progress-failed" : "progress"}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      aria-valuetext={`${value} %`}
    >
      <div className="progress-fill" style={{ width: `${value}%` }} />
    </div>
  );
}
