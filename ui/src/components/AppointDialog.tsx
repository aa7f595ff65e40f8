import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import type { ApiError } from "../bindings/ApiError";
import type { QuectelPlanRow } from "../bindings/QuectelPlanRow";
import type { QuectelWindow } from "../bindings/QuectelWindow";
import { useAppointmentCheck } from "../hooks/useAppointmentCheck";
import { t } from "../i18n";
import { fromLocalInput, pickerBounds, suggestWindow, toLocalInput } from "../lib/appointment";
import { formatDateTime, formatDuration } from "../lib/format";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

interface Props {
  row: QuectelPlanRow;
  busy: boolean;
  error: ApiError | null;
  onSubmit: (window: QuectelWindow) => void;
  onClose: () => void;
}

/**
 * Picks an upgrade window with two local date-time pickers bounded by the plan period. The rules (inside
 * the period, at least one hour) are explained above the pickers and checked by Rust as the user picks; the
 * submit button stays disabled, with Rust's reason beside it, until the window keeps them.
 */
export function AppointDialog({ row, busy, error, onSubmit, onClose }: Props) {
  const [initial] = useState(() => suggestWindow(row.planStart, row.planEnd, Date.now()));
  const [startText, setStartText] = useState(() => toLocalInput(row.appointStart ?? initial.start));
  const [endText, setEndText] = useState(() => toLocalInput(row.appointEnd ?? initial.end));
  const startId = useId();
  const endId = useId();
  const reasonId = useId();
  const rulesId = useId();
  const titleId = useId();
  const startRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    startRef.current?.focus();
    return () => previous?.focus();
  }, []);

  const start = fromLocalInput(startText);
  const end = fromLocalInput(endText);
  const missing = start === null || end === null;
  const check = useAppointmentCheck(row.planStart, row.planEnd, start, end);
  // What the reason line says and the submit button follows: the unreadable pickers at once, otherwise Rust's
  // latest answer (nothing is offered before the first one).
  const problem: string | null = missing
    ? t("appoint.problem.missing")
    : (check.verdict?.problem?.message ?? check.error?.message ?? null);
  const accepted = !missing && problem === null && check.verdict !== null ? check.verdict.window : null;
  const bounds = pickerBounds(row.planStart, row.planEnd);
  const rules =
    row.planStart !== null && row.planEnd !== null
      ? t("appoint.rules", { start: formatDateTime(row.planStart), end: formatDateTime(row.planEnd) })
      : t("appoint.rulesNoPeriod");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (accepted === null || start === null || end === null || busy) return;
    onSubmit({ startMs: start, endMs: end });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    }
  };

  return (
    <div className="modal-backdrop">
      <div className="modal appoint-dialog" role="dialog" aria-modal="true" aria-labelledby={titleId} aria-describedby={rulesId} onKeyDown={onKeyDown}>
        <h2 id={titleId}>{t("appoint.title", { name: row.deviceName })}</h2>
        <p id={rulesId} className="appoint-rules">
          {rules} <span className="muted">{t("appoint.timezone")}</span>
        </p>
        <form onSubmit={submit} noValidate>
          <div className="appoint-fields">
            <label htmlFor={startId}>{t("appoint.start")}</label>
            <input
              ref={startRef}
              id={startId}
              type="datetime-local"
              value={startText}
              min={bounds.min}
              max={bounds.max}
              step={60}
              aria-invalid={problem !== null && !missing ? true : undefined}
              aria-describedby={reasonId}
              onChange={(e) => setStartText(e.target.value)}
            />
            <label htmlFor={endId}>{t("appoint.end")}</label>
            <input
              id={endId}
              type="datetime-local"
              value={endText}
              min={bounds.min}
              max={bounds.max}
              step={60}
              aria-invalid={problem !== null && !missing ? true : undefined}
              aria-describedby={reasonId}
              onChange={(e) => setEndText(e.target.value)}
            />
          </div>
          <p id={reasonId} className={problem ? "appoint-reason warn-text" : "appoint-reason muted"} role="status">
            {problem ?? (accepted ? t("appoint.duration", { duration: formatDuration(accepted.endMs - accepted.startMs) }) : null)}
          </p>
          {error ? <ErrorMessage error={error} /> : null}
          <div className="modal-actions">
            <button type="button" className="button" onClick={onClose}>
              {t("appoint.cancel")}
            </button>
            <button
              type="submit"
              className="button primary"
              disabled={accepted === null || busy}
              aria-busy={busy}
              aria-describedby={reasonId}
            >
              {busy ? <Spinner /> : null}
              {t("appoint.submit")}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
