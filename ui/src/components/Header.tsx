import type { ApiError } from "../bindings/ApiError";
import { useAppInfo } from "../hooks/useServerState";
import { fellBackToDesk, useTeamDatabaseStatus } from "../hooks/useTeamDatabase";
import { t } from "../i18n";
import { FreshnessStatus } from "./FreshnessStatus";
import { RefreshButton } from "./RefreshButton";

interface Props {
  refreshing: boolean;
  refreshError: ApiError | null;
  onRefresh: () => void;
}

export function Header({ refreshing, refreshError, onRefresh }: Props) {
  const info = useAppInfo();
  const team = useTeamDatabaseStatus();
  const teamFallback = team.data && fellBackToDesk(team.data) ? team.data.error : null;
  return (
    <header className="app-header">
      <h1 className="app-title">{t("app.title")}</h1>
      {info.data?.sandbox ? (
        <span className="sandbox-badge" title={t("app.sandboxTitle")}>
          {t("app.sandbox")}
        </span>
      ) : null}
      {teamFallback ? (
        <span
          className="team-fallback"
          role="alert"
          aria-label={t("team.fallbackBannerLabel")}
          title={[teamFallback.message, teamFallback.hint].filter(Boolean).join(" ")}
        >
          {t("team.fallbackBanner")}
        </span>
      ) : null}
      <div className="header-spacer" />
      <FreshnessStatus />
      {refreshError ? (
        <span className="refresh-error" role="alert" title={refreshError.hint ?? undefined}>
          {t("freshness.refreshFailed", { message: refreshError.message })}
        </span>
      ) : null}
      <RefreshButton busy={refreshing} onRefresh={onRefresh} />
    </header>
  );
}
