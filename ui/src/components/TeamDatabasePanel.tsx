import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState, type FormEvent } from "react";

import { clearTeamDatabase, restartApp, saveTeamDatabase } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { TeamDatabaseStatus } from "../bindings/TeamDatabaseStatus";
import { fellBackToDesk, useTeamDatabaseStatus } from "../hooks/useTeamDatabase";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

interface Submission {
  url: string;
  password: string;
}

/** What the form can tell before asking Rust (which checks it all again, and connects). */
export function checkTeamDatabaseUrl(url: string): string | null {
  const trimmed = url.trim();
  if (!trimmed) return t("team.urlMissing");
  if (!/^postgres(ql)?:\/\//i.test(trimmed)) return t("team.urlNotPostgres");
  return null;
}

/** "Live" / "Unreachable", styled like the header's fleet freshness. */
function DatabaseState({ status }: { status: TeamDatabaseStatus | undefined }) {
  const state = status ? (status.live ? "live" : "cached") : "unknown";
  const text = status ? (status.live ? t("team.live") : t("team.unreachable")) : t("team.checking");
  return (
    <span className={`freshness freshness-${state}`} role="status" aria-label={t("team.state")}>
      <span className="freshness-dot" aria-hidden="true" />
      <span className="freshness-text">{text}</span>
    </span>
  );
}

/**
 * Settings → Team database: which data this desk works on, whether it answers, and choosing the team's
 * PostgreSQL (or this desk's own file) for the next start.
 */
export function TeamDatabasePanel() {
  const ids = useId();
  const queryClient = useQueryClient();
  const status = useTeamDatabaseStatus({ poll: true });
  // null until edited: the form shows the saved URL.
  const [url, setUrl] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [confirmingDesk, setConfirmingDesk] = useState(false);
  const [deskChosen, setDeskChosen] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);

  const restart = useMutation<void, ApiError, void>({ mutationFn: () => restartApp() });
  const save = useMutation<TeamDatabaseStatus, ApiError, Submission>({
    mutationFn: ({ url: u, password: p }) => saveTeamDatabase(u, p),
    onSuccess: (next) => {
      queryClient.setQueryData(queryKeys.teamDatabase, next);
      setPassword("");
      setUrl(null);
      // Restart only when that opens other data (with OTA_CONSOLE_DATABASE_URL set, it would not).
      if (next.restartNeeded) restart.mutate();
    },
    onError: (error) => {
      if (error.code === "auth") {
        setPassword("");
        passwordRef.current?.focus();
      }
    },
  });
  const clear = useMutation<TeamDatabaseStatus, ApiError, void>({
    mutationFn: () => clearTeamDatabase(),
    onSuccess: (next) => {
      queryClient.setQueryData(queryKeys.teamDatabase, next);
      setConfirmingDesk(false);
      setDeskChosen(true);
      setUrl(null);
    },
    onError: () => setConfirmingDesk(false),
  });

  const data = status.data;
  const shownUrl = url ?? data?.savedUrl ?? "";
  const busy = save.isPending || clear.isPending || restart.isPending;

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setDeskChosen(false);
    clear.reset();
    const invalid = checkTeamDatabaseUrl(shownUrl);
    setProblem(invalid);
    if (invalid) return;
    save.mutate({ url: shownUrl.trim(), password });
  };

  const errorId = `${ids}-error`;
  const formError: ApiError | null = problem ? { code: "validation", message: problem } : save.error;
  return (
    <div className="team-database">
      <p className="muted">{t("team.note")}</p>
      {status.error ? <ErrorMessage error={status.error} onRetry={() => void status.refetch()} /> : null}
      {data ? (
        <dl className="info-list">
          <div>
            <dt>{t("team.data")}</dt>
            <dd data-team-mode={data.mode}>{data.mode === "team" ? t("team.modeTeam") : t("team.modeDesk")}</dd>
          </div>
          <div>
            <dt>{t("team.location")}</dt>
            <dd className="mono">{data.location}</dd>
          </div>
          <div>
            <dt>{t("team.state")}</dt>
            <dd>
              <DatabaseState status={data} />
            </dd>
          </div>
          {data.source ? (
            <div>
              <dt>{t("team.source")}</dt>
              <dd>{data.source === "environment" ? t("team.sourceEnvironment") : t("team.sourceSettings")}</dd>
            </div>
          ) : null}
        </dl>
      ) : null}
      {data?.error ? <ErrorMessage error={data.error} live={false} /> : null}
      {data?.environmentUrl ? (
        <p className="muted team-environment">{t("team.environmentWins", { url: data.environmentUrl })}</p>
      ) : null}
      {deskChosen ? (
        <p className="success-note" role="status">
          {t("team.deskChosen")}
        </p>
      ) : null}
      {data?.restartNeeded ? (
        <div className="team-restart" role="status">
          {data.savedUrl && data.savedUrl !== data.location ? <p>{t("team.saved", { url: data.savedUrl })}</p> : null}
          <p>{fellBackToDesk(data) ? t("team.restartToRetry") : t("team.restartNeeded")}</p>
          <button
            type="button"
            className="button primary"
            onClick={() => restart.mutate()}
            disabled={restart.isPending}
            aria-busy={restart.isPending}
          >
            {restart.isPending ? t("team.restarting") : t("team.restart")}
          </button>
        </div>
      ) : null}
      {restart.error ? <ErrorMessage error={restart.error} /> : null}
      <form
        className="team-database-form"
        onSubmit={onSubmit}
        aria-describedby={formError ? errorId : undefined}
        noValidate
      >
        <div className="form-grid">
          <label className="field">
            <span>{t("team.url")}</span>
            <input
              type="url"
              className="mono"
              value={shownUrl}
              placeholder={t("team.urlPlaceholder")}
              onChange={(e) => {
                setUrl(e.target.value);
                setProblem(null);
              }}
              autoComplete="off"
              spellCheck={false}
            />
          </label>
          <label className="field">
            <span>{t("team.password")}</span>
            <input
              ref={passwordRef}
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="new-password"
            />
          </label>
        </div>
        <p className="muted secret-note">{t("team.passwordNote")}</p>
        {formError ? <ErrorMessage error={formError} id={errorId} /> : null}
        {clear.error ? <ErrorMessage error={clear.error} /> : null}
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={busy} aria-busy={save.isPending}>
            {save.isPending ? <Spinner /> : null}
            {save.isPending ? t("team.saving") : t("team.save")}
          </button>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => {
              save.reset();
              setProblem(null);
              setDeskChosen(false);
              setConfirmingDesk(true);
            }}
          >
            {t("team.useDesk")}
          </button>
        </div>
      </form>
      {confirmingDesk ? (
        <ConfirmDialog
          title={t("team.confirmDeskTitle")}
          body={t("team.confirmDeskBody")}
          confirmLabel={t("team.useDesk")}
          tone="primary"
          busy={clear.isPending}
          onConfirm={() => clear.mutate()}
          onCancel={() => setConfirmingDesk(false)}
        />
      ) : null}
    </div>
  );
}
