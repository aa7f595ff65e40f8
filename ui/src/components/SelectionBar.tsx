import { useState } from "react";

import type { Device } from "../bindings/Device";
import type { BulkUpdateResult } from "../hooks/useBulkVicohomeUpdate";
import { deviceKey } from "../hooks/useDeviceSelection";
import { t } from "../i18n";
import { isOnNewestFirmware } from "../lib/firmware";
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

/**
 * What is ticked in the table and what can be done with it: a firmware update of every Vicohome camera not
 * already on its newest firmware, after a confirmation that says how many will be started.
 */
export function SelectionBar({ selected, onClear, onUpdate, updating, results, onDismissResults }: Props) {
  const [confirming, setConfirming] = useState(false);
  if (selected.length === 0 && results.length === 0) return null;
  const vicohome = selected.filter((d) => d.cloud === "vicohome");
  const cameras = vicohome.filter((d) => !isOnNewestFirmware(d));
  const upToDate = vicohome.filter(isOnNewestFirmware);
  const otherClouds = selected.filter((d) => d.cloud !== "vicohome");
  const skippedCount = otherClouds.length + upToDate.length;
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
            disabled={cameras.length === 0 || updating}
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
      {skippedCount > 0 ? (
        <div className="selection-skipped">
          <h3 id="selection-skipped-title">{t("selection.skippedTitle")}</h3>
          <ul aria-labelledby="selection-skipped-title">
            {upToDate.map((d) => (
              <li key={deviceKey(d)}>{t("selection.skippedUpToDate", { name: d.name, version: d.firmware })}</li>
            ))}
            {otherClouds.map((d) => (
              <li key={deviceKey(d)}>{t("selection.skipped", { name: d.name, cloud: cloudLabel(d.cloud) })}</li>
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
    case "refused":
      return (
        <>
          <span className="state-failed">{t("selection.refused")}</span>
          <ErrorMessage error={result.error} live={false} />
        </>
      );
  }
}
