import { useState } from "react";

import { Header } from "./components/Header";
import { Nav, type View } from "./components/Nav";
import { useDataChangedInvalidation } from "./hooks/useDataChanged";
import { useAutoRefresh, useFleetRefresh } from "./hooks/useFleetRefresh";
import { AuditView } from "./views/AuditView";
import { CampaignsView } from "./views/CampaignsView";
import { DevicesView } from "./views/DevicesView";
import { FirmwareView } from "./views/FirmwareView";
import { JobsView } from "./views/JobsView";
import { PlansView } from "./views/PlansView";
import { SettingsView } from "./views/SettingsView";

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
        {view === "devices" ? <DevicesView /> : null}
        {view === "plans" ? <PlansView /> : null}
        {view === "jobs" ? <JobsView /> : null}
        {view === "firmware" ? <FirmwareView /> : null}
        {view === "campaigns" ? <CampaignsView /> : null}
        {view === "audit" ? <AuditView /> : null}
        {view === "settings" ? <SettingsView /> : null}
      </main>
    </div>
  );
}
