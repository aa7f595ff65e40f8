import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { addWebhook } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { NewWebhook } from "../bindings/NewWebhook";
import type { Webhook } from "../bindings/Webhook";
import { parseEvents } from "../hooks/useWebhooks";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

/** The events a campaign sends, for the form's note (Rust checks the patterns). */
export const WEBHOOK_EVENTS = [
  "campaign.started",
  "campaign.resumed",
  "campaign.wave_passed",
  "campaign.device_failures",
  "campaign.paused",
  "campaign.aborted",
  "campaign.completed",
  "campaign.cancelled",
];

export const DEFAULT_EVENTS = "campaign.*";

interface Submission {
  webhook: NewWebhook;
  secret: string;
}

/** What the form can tell before asking Rust (which checks the URL and the event names). */
export function checkWebhookForm(url: string, events: string, secret: string): string | null {
  if (!url.trim()) return t("webhooks.urlMissing");
  if (parseEvents(events).length === 0) return t("webhooks.eventsMissing");
  if (!secret.trim()) return t("webhooks.secretMissing");
  return null;
}

/** Adds a webhook. The signing secret goes to the Rust side (the keychain) and leaves the form once added. */
export function AddWebhookForm() {
  const ids = useId();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState(DEFAULT_EVENTS);
  const [secret, setSecret] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);

  const add = useMutation<Webhook, ApiError, Submission>({
    mutationFn: ({ webhook, secret: s }) => addWebhook(webhook, s),
    onSuccess: (webhook) => {
      setAdded(webhook.url);
      setUrl("");
      setSecret("");
      setEvents(DEFAULT_EVENTS);
      void queryClient.invalidateQueries({ queryKey: queryKeys.webhooks });
    },
  });

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (add.isPending) return;
    setAdded(null);
    add.reset();
    const invalid = checkWebhookForm(url, events, secret);
    setProblem(invalid);
    if (invalid) return;
    add.mutate({ webhook: { url: url.trim(), events: parseEvents(events) }, secret });
  };

  const errorId = `${ids}-error`;
  const error: ApiError | null = problem ? { code: "validation", message: problem } : add.error;
  return (
    <form className="webhook-form" onSubmit={onSubmit} aria-describedby={error ? errorId : undefined} noValidate>
      <div className="form-grid">
        <label className="field">
          <span>{t("webhooks.url")}</span>
          <input
            type="url"
            className="mono"
            value={url}
            placeholder={t("webhooks.urlPlaceholder")}
            onChange={(e) => {
              setUrl(e.target.value);
              setProblem(null);
            }}
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <label className="field">
          <span>{t("webhooks.events")}</span>
          <input
            type="text"
            className="mono"
            value={events}
            onChange={(e) => {
              setEvents(e.target.value);
              setProblem(null);
            }}
            aria-describedby={`${ids}-events-note`}
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <label className="field">
          <span>{t("webhooks.secret")}</span>
          <input
            type="password"
            value={secret}
            onChange={(e) => {
              setSecret(e.target.value);
              setProblem(null);
            }}
            autoComplete="new-password"
          />
        </label>
      </div>
      <p id={`${ids}-events-note`} className="muted">
        {t("webhooks.eventsNote", { events: WEBHOOK_EVENTS.join(", ") })}
      </p>
      <p className="muted secret-note">{t("webhooks.secretNote")}</p>
      {error ? <ErrorMessage error={error} id={errorId} /> : null}
      {added ? (
        <p className="success-note" role="status">
          {t("webhooks.added", { url: added })}
        </p>
      ) : null}
      <button type="submit" className="button primary" disabled={add.isPending} aria-busy={add.isPending}>
        {add.isPending ? <Spinner /> : null}
        {add.isPending ? t("webhooks.adding") : t("webhooks.add")}
      </button>
    </form>
  );
}
