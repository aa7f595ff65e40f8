import { AccountsTable } from "../components/AccountsTable";
import { AddAccountForm } from "../components/AddAccountForm";
import { AppInfoPanel } from "../components/AppInfoPanel";
import { AddWebhookForm } from "../components/AddWebhookForm";
import { ImportDevicesForm } from "../components/ImportDevicesForm";
import { TeamDatabasePanel } from "../components/TeamDatabasePanel";
import { WebhooksTable } from "../components/WebhooksTable";
import { t } from "../i18n";

export function SettingsView() {
  return (
    <div className="view settings-view">
      <h2 className="view-title">{t("settings.title")}</h2>
      <section className="card" aria-labelledby="settings-accounts">
        <h3 id="settings-accounts">{t("settings.accounts")}</h3>
        <AccountsTable />
      </section>
      <section className="card" aria-labelledby="settings-add">
        <h3 id="settings-add">{t("settings.addTitle")}</h3>
        <AddAccountForm />
      </section>
      <section className="card" aria-labelledby="settings-import">
        <h3 id="settings-import">{t("import.title")}</h3>
        <ImportDevicesForm />
      </section>
      <section className="card" aria-labelledby="settings-team">
        <h3 id="settings-team">{t("team.title")}</h3>
        <TeamDatabasePanel />
      </section>
      <section className="card" aria-labelledby="settings-webhooks">
        <h3 id="settings-webhooks">{t("webhooks.title")}</h3>
        <p className="muted">{t("webhooks.note")}</p>
        <WebhooksTable />
        <h4 className="subsection-title">{t("webhooks.addTitle")}</h4>
        <AddWebhookForm />
      </section>
      <section className="card" aria-labelledby="settings-about">
        <h3 id="settings-about">{t("settings.about")}</h3>
        <AppInfoPanel />
      </section>
    </div>
  );
}
