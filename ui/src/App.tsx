import { lazy, Suspense, useState } from "react";

import { Header } from "./components/Header";
import { Nav, type View } from "./components/Nav";
import { ViewErrorBoundary } from "./components/ViewErrorBoundary";
import { t } from "./i18n";
import { useDataChangedInvalidation } from "./hooks/useDataChanged";
import { useAutoRefresh, useFleetRefresh } from "./hooks/useFleetRefresh";
import { AuditView } from "./views/AuditView";
import { CampaignsView } from "./views/CampaignsView";
import { DevicesView } from "./views/DevicesView";
import { FirmwareView } from "./views/FirmwareView";
import { JobsView } from "./views/JobsView";
import { PlansView } from "./views/PlansView";
import { SettingsView } from "./views/SettingsView";

// The Fleet view carries the chart library: it loads when first opened, so start-up does not parse it.
const FleetView = lazy(() => import("./views/FleetView").then((m) => ({ default: m.FleetView })));

export function App() {
  const [view, setView] = useState<View>("devices");
  const fleet = useFleetRefresh();
  useDataChangedInvalidation();
  useAutoRefresh(fleet.refresh);

  return (
    <div className="app">
      <Header refreshing={fleet.busy} refreshError={fleet.error} onRefresh={fleet.refresh} />
      <Nav current={view} onChange={setView} />
      <main className="app-main">
        <ViewErrorBoundary key={view}>
          {view === "devices" ? <DevicesView /> : null}
          {view === "fleet" ? (
            <Suspense fallback={<p role="status">{t("fleet.loading")}</p>}>
              <FleetView />
            </Suspense>
          ) : null}
          {view === "plans" ? <PlansView /> : null}
          {view === "jobs" ? <JobsView /> : null}
          {view === "firmware" ? <FirmwareView /> : null}
          {view === "campaigns" ? <CampaignsView /> : null}
          {view === "audit" ? <AuditView /> : null}
          {view === "settings" ? <SettingsView /> : null}
        </ViewErrorBoundary>
      </main>
    </div>
  );
}
