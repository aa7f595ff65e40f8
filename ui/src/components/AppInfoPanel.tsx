import { useAppInfo } from "../hooks/useServerState";
import { t } from "../i18n";
import { ErrorMessage } from "./ErrorMessage";

export function AppInfoPanel() {
  const info = useAppInfo();
  if (info.error) return <ErrorMessage error={info.error} live={false} />;
  if (!info.data) return null;
  return (
    <dl className="info-list">
      <div>
        <dt>{t("settings.version")}</dt>
        <dd className="mono">{info.data.version}</dd>
      </div>
      <div>
        <dt>{t("settings.mode")}</dt>
        <dd>{info.data.sandbox ? t("settings.modeSandbox") : t("settings.modeLive")}</dd>
      </div>
      {info.data.simUrl ? (
        <div>
          <dt>{t("settings.simulator")}</dt>
          <dd className="mono">{info.data.simUrl}</dd>
        </div>
      ) : null}
      <div>
        <dt>{t("settings.dataDir")}</dt>
        <dd className="mono">{info.data.dataDir}</dd>
      </div>
    </dl>
  );
}
