import { useMutation, useQuery } from "@tanstack/react-query";

import { exportFleetVersions, fleetVersions } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { FleetVersions } from "../bindings/FleetVersions";
import type { ModelVersions } from "../bindings/ModelVersions";
import { BarChart } from "../components/BarChart";
import { ErrorMessage } from "../components/ErrorMessage";
import { t } from "../i18n";
import { cloudLabel } from "../lib/format";
import { queryKeys } from "../queryKeys";

/** Colours for versions and reasons in the charts, in order (the tables beside them carry the numbers). */
const PALETTE = ["#2f6fdf", "#3aa76d", "#e0a100", "#d0453a", "#8a5cd1", "#2aa5b8", "#9a9a9a"];
const colour = (i: number) => PALETTE[i % PALETTE.length]!;

const percent = (part: number, whole: number) => (whole === 0 ? "—" : `${((part / whole) * 100).toFixed(1)} %`);

/**
 * Which version runs where: per cloud and model, each version's device count and how many are behind the
 * newest; the success rate of each firmware version across single updates and campaigns; failures by
 * reason per day. Every chart has a table with the same numbers beside it.
 */
export function FleetView() {
  const fleet = useQuery<FleetVersions, ApiError>({ queryKey: queryKeys.fleetVersions, queryFn: fleetVersions });
  const exporter = useMutation<string | null, ApiError>({ mutationFn: exportFleetVersions });
  const data = fleet.data;
  return (
    <div className="view fleet-view">
      <div className="view-head">
        <h2 className="view-title">{t("fleet.title")}</h2>
        <button type="button" className="button" onClick={() => exporter.mutate()} disabled={exporter.isPending || !data}>
          {t("fleet.exportCsv")}
        </button>
      </div>
      {exporter.error ? <ErrorMessage error={exporter.error} /> : null}
      {exporter.data ? (
        <p role="status" className="success-note">
          {t("fleet.exported", { path: exporter.data })}
        </p>
      ) : null}
      {fleet.isPending ? <p role="status">{t("fleet.loading")}</p> : null}
      {fleet.error ? <ErrorMessage error={fleet.error} onRetry={() => void fleet.refetch()} /> : null}
      {data && data.models.length === 0 ? <p className="empty-note">{t("fleet.empty")}</p> : null}
      {data && data.models.length > 0 ? (
        <>
          <section aria-labelledby="fleet-models">
            <h3 id="fleet-models">{t("fleet.versionsTitle")}</h3>
            <div className="fleet-models">
              {data.models.map((m) => (
                <ModelCard key={`${m.cloud}:${m.model}`} model={m} />
              ))}
            </div>
          </section>
          <SuccessByVersion data={data} />
          <FailuresOverTime data={data} />
        </>
      ) : null}
    </div>
  );
}

function ModelCard({ model }: { model: ModelVersions }) {
  const title = t("fleet.model", { cloud: cloudLabel(model.cloud), model: model.model });
  return (
    <article className="fleet-model" aria-label={title}>
      <h4>{title}</h4>
      <p className="muted" aria-label={t("fleet.summaryLabel", { model: model.model })}>
        {t(model.total === 1 ? "fleet.summaryOne" : "fleet.summary", { total: model.total, newest: model.newest, behind: model.behind })}
      </p>
      <BarChart
        label={t("fleet.versionsChart", { model: model.model })}
        categories={[model.model]}
        series={model.versions.map((v, i) => ({ label: v.version, values: [v.devices], colour: colour(i) }))}
        stacked
        horizontal
        legend={false}
        height={56}
      />
      <table className="fleet-table" aria-label={t("fleet.versionsOf", { model: model.model })}>
        <thead>
          <tr>
            <th scope="col">{t("fleet.version")}</th>
            <th scope="col">{t("fleet.devices")}</th>
            <th scope="col">{t("fleet.share")}</th>
          </tr>
        </thead>
        <tbody>
          {model.versions.map((v, i) => (
            <tr key={v.version} data-version={v.version}>
              <th scope="row">
                <span className="swatch" style={{ background: colour(i) }} aria-hidden="true" /> {v.version}
                {v.version === model.newest ? <span className="muted"> {t("fleet.newest")}</span> : null}
              </th>
              <td>{v.devices}</td>
              <td>{percent(v.devices, model.total)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}

function SuccessByVersion({ data }: { data: FleetVersions }) {
  const rows = data.successByVersion;
  return (
    <section aria-labelledby="fleet-success">
      <h3 id="fleet-success">{t("fleet.successTitle")}</h3>
      {rows.length === 0 ? (
        <p className="muted">{t("fleet.noUpdates")}</p>
      ) : (
        <>
          <BarChart
            label={t("fleet.successChart")}
            categories={rows.map((r) => `${r.version} (${cloudLabel(r.cloud)})`)}
            series={[
              { label: t("fleet.succeeded"), values: rows.map((r) => r.succeeded), colour: colour(1) },
              { label: t("fleet.failed"), values: rows.map((r) => r.failed), colour: colour(3) },
            ]}
            stacked
            height={200}
          />
          <table className="fleet-table" aria-label={t("fleet.successTitle")}>
            <thead>
              <tr>
                <th scope="col">{t("fleet.cloud")}</th>
                <th scope="col">{t("fleet.version")}</th>
                <th scope="col">{t("fleet.attempts")}</th>
                <th scope="col">{t("fleet.succeeded")}</th>
                <th scope="col">{t("fleet.failed")}</th>
                <th scope="col">{t("fleet.successRate")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.cloud}:${r.version}`}>
                  <td>{cloudLabel(r.cloud)}</td>
                  <th scope="row">{r.version}</th>
                  <td>{r.attempts}</td>
                  <td>{r.succeeded}</td>
                  <td>{r.failed}</td>
                  <td>{percent(r.succeeded, r.succeeded + r.failed)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function FailuresOverTime({ data }: { data: FleetVersions }) {
  const reasons = [...new Set(data.failuresByDay.map((f) => f.reason))];
  const days = [...new Set(data.failuresByDay.map((f) => f.day))].sort();
  const count = (day: string, reason: string) =>
    data.failuresByDay.find((f) => f.day === day && f.reason === reason)?.count ?? 0;
  return (
    <section aria-labelledby="fleet-failures">
      <h3 id="fleet-failures">{t("fleet.failuresTitle")}</h3>
      {days.length === 0 ? (
        <p className="muted">{t("fleet.noFailures")}</p>
      ) : (
        <>
          <BarChart
            label={t("fleet.failuresChart")}
            categories={days}
            series={reasons.map((reason, i) => ({ label: reason, values: days.map((day) => count(day, reason)), colour: colour(i + 3) }))}
            stacked
            height={200}
          />
          <table className="fleet-table" aria-label={t("fleet.failuresTitle")}>
            <thead>
              <tr>
                <th scope="col">{t("fleet.day")}</th>
                <th scope="col">{t("fleet.reason")}</th>
                <th scope="col">{t("fleet.devices")}</th>
              </tr>
            </thead>
            <tbody>
              {data.failuresByDay.map((f) => (
                <tr key={`${f.day}:${f.reason}`}>
                  <td>{f.day}</td>
                  <td>{f.reason}</td>
                  <td>{f.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
