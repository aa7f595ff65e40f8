import { useState } from "react";

import type { ApiError } from "../bindings/ApiError";
import type { QuectelActionResult } from "../bindings/QuectelActionResult";
import type { QuectelPlanAction } from "../bindings/QuectelPlanAction";
import type { QuectelPlanRow } from "../bindings/QuectelPlanRow";
import type { QuectelWindow } from "../bindings/QuectelWindow";
import { AppointDialog } from "../components/AppointDialog";
import { AutoUpgradeSwitch } from "../components/AutoUpgradeSwitch";
import { BluetoothUpdate } from "../components/BluetoothUpdate";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { ProgressBar } from "../components/ProgressBar";
import { Spinner } from "../components/Spinner";
import { quectelPlanDetails } from "../api";
import { useNow } from "../hooks/useNow";
import { itemOf, planKey, usePlanAction, useQuectelPlans } from "../hooks/useQuectelPlans";
import { t } from "../i18n";
import { formatDateTime } from "../lib/format";
import "./PlansView.css";

type BatchAction = Exclude<QuectelPlanAction, "appoint">;

interface Results {
  action: QuectelPlanAction;
  results: QuectelActionResult[];
}

/**
 * Quectel upgrade plans: every device's current plan with its version, period and state; Upgrade now,
 * Appoint, Cancel and Retry per row or on a selection; the auto-upgrade switch per device; the Bluetooth
 * flow for Bluetooth devices. Live while something is in progress (polled every 3 s).
 */
export function PlansView() {
  const now = useNow(5_000);
  const plans = useQuectelPlans(now);
  const action = usePlanAction(plans.merge);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [appointing, setAppointing] = useState<QuectelPlanRow | null>(null);
  const [cancelling, setCancelling] = useState<QuectelPlanRow[] | null>(null);
  const [bluetoothKey, setBluetoothKey] = useState<string | null>(null);
  const [results, setResults] = useState<Results | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);

  const rows = plans.list?.rows ?? [];
  const chosen = rows.filter((row) => selected.has(planKey(row)));
  const bluetoothRow = bluetoothKey === null ? undefined : rows.find((row) => planKey(row) === bluetoothKey);
  const names = new Map(rows.map((row) => [row.deviceKey, row.deviceName]));

  const run = (kind: QuectelPlanAction, targets: QuectelPlanRow[], window?: QuectelWindow) => {
    setFailure(null);
    action.mutate(
      { action: kind, items: targets.map(itemOf), window },
      {
        onSuccess: (report) => {
          setResults({ action: kind, results: report.results });
          setAppointing(null);
          setCancelling(null);
          const done = new Set(report.results.filter((r) => r.ok).map((r) => planKey(r)));
          setSelected((prev) => new Set([...prev].filter((key) => !done.has(key))));
        },
        onError: (err) => {
          // A refused appointment is shown in its dialog; anything else here.
          if (kind !== "appoint") setFailure(err);
          setCancelling(null);
        },
      },
    );
  };

  const refreshRow = (row: QuectelPlanRow) => {
    void quectelPlanDetails([itemOf(row)]).then(plans.merge, () => {});
  };

  const toggle = (row: QuectelPlanRow) => {
    const key = planKey(row);
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  };
  const allSelected = rows.length > 0 && rows.every((row) => selected.has(planKey(row)));
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(rows.map(planKey)));

  const startBatch = (kind: BatchAction) => {
    const eligible = chosen.filter((row) => row.actions[kind]);
    if (eligible.length === 0) return;
    if (kind === "cancel") setCancelling(eligible);
    else run(kind, eligible);
  };

  const readErrors = plans.list?.errors ?? [];
  return (
    <div className={bluetoothRow ? "view plans-view with-history" : "view plans-view"}>
      <div className="plans-main">
        <div className="plans-head">
          <h2 className="view-title">{t("plans.title")}</h2>
          {plans.list ? (
            <span className="plans-status" role="status">
              <span
                className={plans.showingCache || !plans.list.live ? "plans-tag plans-cached" : "plans-tag plans-live"}
                title={plans.showingCache ? t("plans.cachedTitle") : undefined}
              >
                {plans.showingCache || !plans.list.live ? t("plans.cached") : t("plans.live")}
              </span>{" "}
              {t("plans.count", { plans: rows.length, devices: plans.list.devices })}
              {plans.polling ? <span className="muted"> · {t("plans.polling")}</span> : null}
            </span>
          ) : null}
          <button
            type="button"
            className="button"
            onClick={plans.refresh}
            disabled={plans.refreshing}
            aria-busy={plans.refreshing}
          >
            {plans.refreshing ? <Spinner /> : null}
            {plans.refreshing ? t("plans.refreshing") : t("plans.refresh")}
          </button>
        </div>
        <p className="muted">{t("plans.note")}</p>
        {plans.error && !plans.showingCache && !plans.list ? (
          <ErrorMessage error={plans.error} onRetry={plans.refresh} />
        ) : null}
        {plans.error && plans.list ? <ErrorMessage error={plans.error} live={false} /> : null}
        {readErrors.length > 0 ? (
          <div className="plans-read-errors">
            {readErrors.some((e) => e.deviceKey !== null) ? (
              <p className="warn-text">{t("plans.readErrors", { count: readErrors.filter((e) => e.deviceKey !== null).length })}</p>
            ) : null}
            <ErrorMessage error={readErrors[0]!.error} live={false} />
          </div>
        ) : null}
        {plans.loading ? <p role="status">{t("plans.loading")}</p> : null}

        {chosen.length > 0 ? (
          <BatchBar
            rows={chosen}
            busy={action.isPending}
            onAction={startBatch}
            onClear={() => setSelected(new Set())}
          />
        ) : null}
        {failure ? <ErrorMessage error={failure} /> : null}
        {results ? <ResultList results={results} names={names} onDismiss={() => setResults(null)} /> : null}

        {plans.list && rows.length === 0 ? <p className="empty-note">{t("plans.empty")}</p> : null}
        {rows.length > 0 ? (
          <div className="table-scroll">
            <table className="data-table plans-table" aria-label={t("plans.tableLabel")}>
              <thead>
                <tr>
                  <th scope="col" className="plan-select">
                    <input type="checkbox" aria-label={t("plans.selectAll")} checked={allSelected} onChange={toggleAll} />
                  </th>
                  <th scope="col">{t("plans.colDevice")}</th>
                  <th scope="col">{t("plans.colVersion")}</th>
                  <th scope="col">{t("plans.colPeriod")}</th>
                  <th scope="col">{t("plans.colState")}</th>
                  <th scope="col">{t("plans.colAutoUpgrade")}</th>
                  <th scope="col">{t("plans.colActions")}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <PlanRow
                    key={planKey(row)}
                    row={row}
                    checked={selected.has(planKey(row))}
                    busy={action.isPending}
                    onToggle={() => toggle(row)}
                    onConfirm={() => run("confirm", [row])}
                    onAppoint={() => {
                      action.reset();
                      setAppointing(row);
                    }}
                    onCancel={() => setCancelling([row])}
                    onRetry={() => run("retry", [row])}
                    onBluetooth={() => setBluetoothKey(planKey(row))}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>

      {bluetoothRow ? (
        <BluetoothUpdate
          key={bluetoothKey}
          row={bluetoothRow}
          onClose={() => setBluetoothKey(null)}
          onReported={() => refreshRow(bluetoothRow)}
        />
      ) : null}
      {appointing ? (
        <AppointDialog
          row={appointing}
          busy={action.isPending}
          error={action.variables?.action === "appoint" ? action.error : null}
          onSubmit={(window) => run("appoint", [appointing], window)}
          onClose={() => setAppointing(null)}
        />
      ) : null}
      {cancelling ? (
        <ConfirmDialog
          title={
            cancelling.length === 1
              ? t("cancelPlan.titleOne", { name: cancelling[0]!.deviceName })
              : t("cancelPlan.titleMany", { count: cancelling.length })
          }
          body={t("cancelPlan.body")}
          confirmLabel={t("cancelPlan.confirm")}
          cancelLabel={t("cancelPlan.keep")}
          busy={action.isPending}
          onConfirm={() => run("cancel", cancelling)}
          onCancel={() => setCancelling(null)}
        />
      ) : null}
    </div>
  );
}

interface RowProps {
  row: QuectelPlanRow;
  checked: boolean;
  busy: boolean;
  onToggle: () => void;
  onConfirm: () => void;
  onAppoint: () => void;
  onCancel: () => void;
  onRetry: () => void;
  onBluetooth: () => void;
}

function PlanRow({ row, checked, busy, onToggle, onConfirm, onAppoint, onCancel, onRetry, onBluetooth }: RowProps) {
  const name = row.deviceName;
  const showProgress = row.state === "upgrading" || (row.state === "failed" && row.percent > 0);
  return (
    <tr
      role="row"
      data-device-key={row.deviceKey}
      data-plan-id={row.planId}
      data-state={row.state}
      className={checked ? "plan-row checked" : "plan-row"}
    >
      <td className="plan-select">
        <input type="checkbox" aria-label={t("plans.selectRow", { name })} checked={checked} onChange={onToggle} />
      </td>
      <td>
        <div className="plan-device-name">{name}</div>
        <div className="mono muted">{row.deviceKey}</div>
        {row.bluetooth ? <span className="plans-tag">{t("plans.bluetoothTag")}</span> : null}
      </td>
      <td>
        <div className="mono">{row.targetVersion}</div>
        <div className="muted">{row.planName}</div>
      </td>
      <td className="plan-period">
        {row.planStart !== null && row.planEnd !== null
          ? t("plans.period", { start: formatDateTime(row.planStart), end: formatDateTime(row.planEnd) })
          : t("plans.noPeriod")}
      </td>
      <td className="plan-state-cell">
        <span className={`state-tag plan-state plan-state-${row.state}`}>
          {t(`planState.${row.state}`)}
          {showProgress ? ` ${row.percent} %` : ""}
        </span>
        {showProgress ? (
          <ProgressBar percent={row.percent} label={t("plans.progressLabel", { name })} failed={row.state === "failed"} />
        ) : null}
        {row.appointStart !== null && row.appointEnd !== null && row.state === "appointed" ? (
          <div className="plan-window muted">
            {t("plans.window", { start: formatDateTime(row.appointStart), end: formatDateTime(row.appointEnd) })}
          </div>
        ) : null}
      </td>
      <td>
        {row.bluetooth ? (
          <span className="muted">{t("autoUpgrade.notApplicable")}</span>
        ) : (
          <AutoUpgradeSwitch deviceKey={row.deviceKey} deviceName={name} />
        )}
      </td>
      <td>
        <div className="plan-actions">
          {row.actions.confirm ? (
            <button type="button" className="button small primary" disabled={busy} aria-label={t("plans.confirmFor", { name })} onClick={onConfirm}>
              {t("plans.confirm")}
            </button>
          ) : null}
          {row.actions.appoint ? (
            <button type="button" className="button small" disabled={busy} aria-label={t("plans.appointFor", { name })} onClick={onAppoint}>
              {t("plans.appoint")}
            </button>
          ) : null}
          {row.actions.cancel ? (
            <button type="button" className="button small danger" disabled={busy} aria-label={t("plans.cancelFor", { name })} onClick={onCancel}>
              {t("plans.cancel")}
            </button>
          ) : null}
          {row.actions.retry ? (
            <button type="button" className="button small primary" disabled={busy} aria-label={t("plans.retryFor", { name })} onClick={onRetry}>
              {t("plans.retry")}
            </button>
          ) : null}
          {row.bluetooth ? (
            <button type="button" className="button small" aria-label={t("plans.bluetoothFor", { name })} onClick={onBluetooth}>
              {t("plans.bluetooth")}
            </button>
          ) : null}
        </div>
      </td>
    </tr>
  );
}

function BatchBar({
  rows,
  busy,
  onAction,
  onClear,
}: {
  rows: QuectelPlanRow[];
  busy: boolean;
  onAction: (action: BatchAction) => void;
  onClear: () => void;
}) {
  const count = (action: BatchAction) => rows.filter((row) => row.actions[action]).length;
  const button = (action: BatchAction, label: "planBatch.confirm" | "planBatch.cancel" | "planBatch.retry", style: string) => {
    const n = count(action);
    return (
      <button type="button" className={`button ${style}`} disabled={busy || n === 0} aria-busy={busy} onClick={() => onAction(action)}>
        {t(label, { count: n })}
      </button>
    );
  };
  return (
    <section className="selection-bar" aria-label={t("planBatch.label")}>
      <div className="selection-actions">
        <span className="selection-count">{t("planBatch.count", { count: rows.length })}</span>
        {button("confirm", "planBatch.confirm", "primary")}
        {button("cancel", "planBatch.cancel", "danger")}
        {button("retry", "planBatch.retry", "")}
        {busy ? <Spinner /> : null}
        <button type="button" className="button" onClick={onClear}>
          {t("planBatch.clear")}
        </button>
      </div>
    </section>
  );
}

function ResultList({
  results,
  names,
  onDismiss,
}: {
  results: Results;
  names: ReadonlyMap<string, string>;
  onDismiss: () => void;
}) {
  return (
    <section className="selection-results plan-results">
      <ul aria-label={t("planBatch.resultsLabel", { action: t(`planAction.${results.action}`) })}>
        {results.results.map((r) => (
          <li key={planKey(r)} data-device-key={r.deviceKey} className={r.ok ? "bulk-result plan-result-ok" : "bulk-result plan-result-refused"}>
            <span className="bulk-name">{names.get(r.deviceKey) ?? r.deviceKey}</span>{" "}
            {r.ok ? (
              <span className="ok-text">{t("planBatch.ok")}</span>
            ) : (
              <>
                <span className="state-failed">{t("planBatch.refused")}</span>
                {r.error ? <ErrorMessage error={r.error} live={false} /> : null}
              </>
            )}
          </li>
        ))}
      </ul>
      <button type="button" className="button" onClick={onDismiss}>
        {t("planBatch.dismiss")}
      </button>
    </section>
  );
}
