import { useState } from "react";

import type { Device } from "../bindings/Device";
import type { LeftOutCamera } from "../bindings/LeftOutCamera";
import type { LeftOutReason } from "../bindings/LeftOutReason";
import type { BulkUpdateResult } from "../hooks/useBulkVicohomeUpdate";
import { deviceKey } from "../hooks/useDeviceSelection";
import { keyOf, useVicohomeUpdatePlan } from "../hooks/useVicohomeUpdatePlan";
import { t } from "../i18n";
import { cloudLabel } from "../lib/format";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

interface Props {
  selected: readonly Device[];
  onClear: () => void;
  onUpdate: (cameras: Device[]) => void;
  updating: boolean;
  results: readonly BulkUpdateResult[];
  onDismissResults: () => void;
}

/** Up to date first, then other clouds, then devices no longer listed: the order the bar always used. */
const REASON_ORDER: Record<LeftOutReason["kind"], number> = { up_to_date: 0, other_cloud: 1, not_in_list: 2 };

export function leftOutText(name: string, reason: LeftOutReason): string {
  switch (reason.kind) {
    case "up_to_date":
      return t("selection.skippedUpToDate", { name, version: reason.version });
    case "other_cloud":
      return t("selection.skipped", { name, cloud: cloudLabel(reason.cloud) });
    case "not_in_list":
      return t("selection.skippedNotListed", { name });
  }
}

/**
 * What is ticked in the table and what can be done with it: a firmware update of the Vicohome cameras Rust
 * says need one (the others are listed with why), after a confirmation that says how many will be started.
 */
export function SelectionBar({ selected, onClear, onUpdate, updating, results, onDismissResults }: Props) {
  const [confirming, setConfirming] = useState(false);
  const { plan, current, error } = useVicohomeUpdatePlan(selected);
  if (selected.length === 0 && results.length === 0) return null;
  // The answer may be for an earlier selection for a moment: only what is still ticked shows.
  const byKey = new Map(selected.map((d) => [deviceKey(d), d]));
  const cameras = (plan?.toStart ?? []).flatMap((key) => byKey.get(keyOf(key)) ?? []);
  const leftOut: LeftOutCamera[] = (plan?.leftOut ?? [])
    .filter((l) => byKey.has(keyOf(l.camera)))
    .sort((a, b) => REASON_ORDER[a.reason.kind] - REASON_ORDER[b.reason.kind]);
  const upToDate = leftOut.filter((l) => l.reason.kind === "up_to_date");
  const count = cameras.length;
  return (
    <section className="selection-bar" aria-label={t("selection.label")}>
      {selected.length > 0 ? (
        <div className="selection-actions">
          <span role="status" className="selection-count">
            {t("selection.count", { count: selected.length })}
          </span>
          <button
            type="button"
            className="button primary"
            disabled={count === 0 || !current || updating}
            aria-busy={updating}
            onClick={() => setConfirming(true)}
          >
            {updating ? <Spinner /> : null}
            {count === 1 ? t("selection.updateOne") : t("selection.update", { count })}
          </button>
          <button type="button" className="button" onClick={onClear}>
            {t("selection.clear")}
          </button>
        </div>
      ) : null}
      {error && selected.length > 0 ? <ErrorMessage error={error} live={false} /> : null}
      {leftOut.length > 0 ? (
        <div className="selection-skipped">
          <h3 id="selection-skipped-title">{t("selection.skippedTitle")}</h3>
          <ul aria-labelledby="selection-skipped-title">
            {leftOut.map((l) => (
              <li key={keyOf(l.camera)}>{leftOutText(l.name, l.reason)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {results.length > 0 ? (
        <div className="selection-results">
          <ul aria-label={t("selection.resultsLabel")}>
            {results.map((r) => (
              <li key={r.key} data-device-id={r.device.id} className={`bulk-result bulk-${r.status}`}>
                <span className="bulk-name">{r.device.name}</span> <ResultText result={r} />
              </li>
            ))}
          </ul>
          {!updating ? (
            <button type="button" className="button" onClick={onDismissResults}>
              {t("selection.dismiss")}
            </button>
          ) : null}
        </div>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title={count === 1 ? t("selection.confirmTitleOne") : t("selection.confirmTitle", { count })}
          body={[
            count === 1 ? t("selection.confirmBodyOne") : t("selection.confirmBody", { count }),
            upToDate.length === 0
              ? ""
              : upToDate.length === 1
                ? t("selection.confirmLeftOutOne")
                : t("selection.confirmLeftOut", { count: upToDate.length }),
          ]
            .filter(Boolean)
            .join(" ")}
          confirmLabel={count === 1 ? t("selection.confirmStartOne") : t("selection.confirmStart", { count })}
          tone="primary"
          onConfirm={() => {
            setConfirming(false);
            onUpdate(cameras);
          }}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </section>
  );
}

function ResultText({ result }: { result: BulkUpdateResult }) {
  switch (result.status) {
    case "pending":
      return <span className="muted">{t("selection.pending")}</span>;
    case "starting":
      return <span className="muted">{t("selection.starting")}</span>;
    case "started":
      return (
        <span>
          {t("selection.started")} ·{" "}
          {t("detail.phasePercent", { phase: t(`phase.${result.job.phase}`), percent: String(result.job.percent) })}
        </span>
      );
    case "leftOut":
      return <span className="muted">{leftOutText(result.device.name, result.reason)}</span>;
    case "refused":
      return (
        <>
          <span className="state-failed">{t("selection.refused")}</span>
          <ErrorMessage error={result.error} live={false} />
        </>
      );
  }
}
