import { useState } from "react";

import { CampaignDashboard, campaignStateLabel } from "../components/CampaignDashboard";
import { CampaignForm } from "../components/CampaignForm";
import { ErrorMessage } from "../components/ErrorMessage";
import { useCampaigns } from "../hooks/useLibrary";
import { t } from "../i18n";
import { formatDateTime } from "../lib/format";

type Screen = { kind: "list" } | { kind: "new" } | { kind: "dashboard"; id: number };

/** Campaigns: the list, the New campaign form, and each campaign's dashboard. */
export function CampaignsView() {
  const [screen, setScreen] = useState<Screen>({ kind: "list" });
  const campaigns = useCampaigns();
  if (screen.kind === "new") {
    return (
      <div className="view">
        <CampaignForm
          onCreated={(c) => setScreen({ kind: "dashboard", id: c.id })}
          onCancel={() => setScreen({ kind: "list" })}
        />
      </div>
    );
  }
  if (screen.kind === "dashboard") {
    return <CampaignDashboard id={screen.id} onBack={() => setScreen({ kind: "list" })} />;
  }
  return (
    <div className="view campaigns-view">
      <div className="view-head">
        <h2 className="view-title">{t("campaigns.title")}</h2>
        <button type="button" className="button primary" onClick={() => setScreen({ kind: "new" })}>
          {t("campaigns.new")}
        </button>
      </div>
      {campaigns.isPending ? <p role="status">{t("campaigns.loading")}</p> : null}
      {campaigns.error && !campaigns.data ? (
        <ErrorMessage error={campaigns.error} onRetry={() => void campaigns.refetch()} />
      ) : null}
      {campaigns.data && campaigns.data.length === 0 ? <p className="empty-note">{t("campaigns.empty")}</p> : null}
      {campaigns.data && campaigns.data.length > 0 ? (
        <div className="table-scroll">
          <table className="data-table" aria-label={t("campaigns.tableLabel")}>
            <thead>
              <tr>
                <th scope="col">{t("campaigns.name")}</th>
                <th scope="col">{t("campaigns.firmware")}</th>
                <th scope="col">{t("campaigns.state")}</th>
                <th scope="col">{t("campaigns.progress")}</th>
                <th scope="col">{t("campaigns.created")}</th>
              </tr>
            </thead>
            <tbody>
              {campaigns.data.map((c) => (
                <tr key={c.id} data-campaign-id={c.id}>
                  <td>
                    <button type="button" className="link-button" onClick={() => setScreen({ kind: "dashboard", id: c.id })}>
                      {c.name}
                    </button>
                  </td>
                  <td>
                    {c.firmwareFile} {c.firmwareVersion}
                  </td>
                  <td>
                    <span className={`state-badge campaign-${c.state}`}>{campaignStateLabel(c.state)}</span>
                  </td>
                  <td>{t("campaigns.counts", { ...c.counts })}</td>
                  <td>{formatDateTime(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
