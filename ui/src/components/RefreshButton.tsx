import { t } from "../i18n";
import { Spinner } from "./Spinner";

interface Props {
  busy: boolean;
  onRefresh: () => void;
}

export function RefreshButton({ busy, onRefresh }: Props) {
  return (
    <button
      type="button"
      className="button refresh-button"
      aria-label={t("refresh.button")}
      aria-busy={busy}
      onClick={onRefresh}
      title={busy ? t("refresh.busy") : t("refresh.button")}
    >
      {busy ? <Spinner /> : <span className="refresh-icon" aria-hidden="true">↻</span>}
      <span>{busy ? t("refresh.busy") : t("refresh.button")}</span>
    </button>
  );
}
