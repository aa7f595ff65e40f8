import type { ApiError } from "../bindings/ApiError";
import { t } from "../i18n";

interface Props {
  error: ApiError;
  onRetry?: () => void;
  id?: string;
  /** Announce it at once (a failure the user just caused); off for errors listed in history. */
  live?: boolean;
}

/** What went wrong and what to do next, from an ApiError; never parses the message. */
export function ErrorMessage({ error, onRetry, id, live = true }: Props) {
  return (
    <div className={`error-message error-${error.code}`} role={live ? "alert" : undefined} id={id}>
      <p className="error-text">
        {error.message}
        {error.vendorCode ? <span className="error-code"> ({t("error.vendorCode", { code: error.vendorCode })})</span> : null}
      </p>
      {error.hint ? <p className="error-hint">{error.hint}</p> : null}
      {error.retryAfterSecs ? <p className="error-hint">{t("error.retryAfter", { secs: error.retryAfterSecs })}</p> : null}
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          {t("error.retry")}
        </button>
      ) : null}
    </div>
  );
}
