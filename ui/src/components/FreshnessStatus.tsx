import { useFreshness } from "../hooks/useServerState";
import { useNow } from "../hooks/useNow";
import { t } from "../i18n";
import { freshnessText } from "../lib/format";

/** "Live · updated just now" / "Cached · updated 3 min ago · <why>" in the header. */
export function FreshnessStatus() {
  const freshness = useFreshness();
  const now = useNow();
  const data = freshness.data;
  const text = data ? freshnessText(data, now) : t("freshness.checking");
  const state = data ? (data.live ? "live" : "cached") : "unknown";
  return (
    <span className={`freshness freshness-${state}`} role="status" aria-label={t("freshness.label")} title={text}>
      <span className="freshness-dot" aria-hidden="true" />
      <span className="freshness-text">{text}</span>
    </span>
  );
}
