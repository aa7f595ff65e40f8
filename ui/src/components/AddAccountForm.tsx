import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState, type FormEvent } from "react";

import { addAccount } from "../api";
import type { Account } from "../bindings/Account";
import type { ApiError } from "../bindings/ApiError";
import type { Cloud } from "../bindings/Cloud";
import type { NewAccount } from "../bindings/NewAccount";
import { useFleetRefresh } from "../hooks/useFleetRefresh";
import { t } from "../i18n";
import { CLOUD_FORMS, VICOHOME_BASE_URLS, isCloud, type VicohomeRegion } from "../lib/clouds";
import { cloudLabel } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

interface Submission {
  account: NewAccount;
  secret: string;
}

/**
 * Adds a real cloud account after signing in with it. The secret goes to the Rust side (the keychain) and
 * stays in its box only until the account is added or the cloud refuses it.
 */
export function AddAccountForm() {
  const ids = useId();
  const queryClient = useQueryClient();
  const { refresh } = useFleetRefresh();
  const [cloud, setCloud] = useState<Cloud>("vicohome");
  const [region, setRegion] = useState<VicohomeRegion>("us");
  const [name, setName] = useState("");
  const [baseUrl, setBaseUrl] = useState(CLOUD_FORMS.vicohome.defaultBaseUrl);
  const [username, setUsername] = useState("");
  const [secret, setSecret] = useState("");
  const [allowHttp, setAllowHttp] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  const secretRef = useRef<HTMLInputElement>(null);

  // Adding signs in first (the Rust side stores nothing unless the cloud accepts the credentials).
  const add = useMutation<Account, ApiError, Submission>({
    mutationFn: ({ account, secret: s }) => addAccount(account, s),
    onSuccess: (account) => {
      setAdded(account.name);
      setName("");
      setUsername("");
      setSecret("");
      setAllowHttp(false);
      void Promise.all(
        [queryKeys.accounts, queryKeys.devices, queryKeys.freshness, queryKeys.appInfo].map((queryKey) =>
          queryClient.invalidateQueries({ queryKey }),
        ),
      );
      // The new account's devices come with the next refresh: do it now.
      refresh();
    },
    onError: (error) => {
      // Everything typed stays so it can be fixed, except a secret the cloud refused: that is typed again.
      if (error.code === "auth") {
        setSecret("");
        secretRef.current?.focus();
      }
    },
  });

  const form = CLOUD_FORMS[cloud];

  const changeCloud = (next: Cloud) => {
    setCloud(next);
    setRegion("us");
    setBaseUrl(CLOUD_FORMS[next].defaultBaseUrl);
    setAllowHttp(false);
  };

  const changeRegion = (next: VicohomeRegion) => {
    setRegion(next);
    setBaseUrl(VICOHOME_BASE_URLS[next]);
  };

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (add.isPending) return;
    setAdded(null);
    const account: NewAccount = {
      name: name.trim(),
      cloud,
      baseUrl: baseUrl.trim(),
      // Plain http is a OneNET-only opt-in; the Rust side checks it again.
      allowHttp: cloud === "onenet" && allowHttp,
    };
    if (cloud === "vicohome") account.region = region;
    if (username.trim()) account.username = username.trim();
    add.mutate({ account, secret });
  };

  const errorId = `${ids}-error`;
  return (
    <form className="account-form" onSubmit={onSubmit} aria-describedby={add.error ? errorId : undefined} noValidate>
      <div className="form-grid">
        <label className="field">
          <span>{t("settings.cloud")}</span>
          <select
            aria-label={t("settings.cloud")}
            value={cloud}
            onChange={(e) => {
              if (isCloud(e.target.value)) changeCloud(e.target.value);
            }}
          >
            {(["vicohome", "onenet", "quectel"] as const).map((c) => (
              <option key={c} value={c}>
                {cloudLabel(c)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t("settings.accountName")}</span>
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" spellCheck={false} />
        </label>
        {cloud === "vicohome" ? (
          <label className="field">
            <span>{t("settings.region")}</span>
            <select
              value={region}
              onChange={(e) => {
                if (e.target.value === "us" || e.target.value === "eu") changeRegion(e.target.value);
              }}
            >
              <option value="us">{t("settings.regionUs")}</option>
              <option value="eu">{t("settings.regionEu")}</option>
            </select>
          </label>
        ) : null}
        <label className="field">
          <span>{t("settings.baseUrl")}</span>
          <input
            type="url"
            value={baseUrl}
            onChange={(e) => setBaseUrl(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            className="mono"
          />
        </label>
        <label className="field">
          <span>{t(form.userLabel)}</span>
          <input
            type={form.userType}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <label className="field">
          <span>{t(form.secretLabel)}</span>
          <input
            ref={secretRef}
            type="password"
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
            autoComplete="new-password"
          />
        </label>
      </div>
      {cloud === "onenet" ? (
        <div className="allow-http">
          <label className="check-field">
            <input
              type="checkbox"
              checked={allowHttp}
              onChange={(e) => setAllowHttp(e.target.checked)}
              aria-describedby={`${ids}-http-note`}
            />
            <span>{t("settings.allowHttp")}</span>
          </label>
          <p id={`${ids}-http-note`} className="muted allow-http-note">
            {t("settings.allowHttpNote")}
          </p>
        </div>
      ) : null}
      <p className="muted secret-note">{t("settings.secretNote")}</p>
      {add.error ? <ErrorMessage error={add.error} id={errorId} /> : null}
      {added ? (
        <p className="success-note" role="status">
          {t("settings.added", { name: added })}
        </p>
      ) : null}
      <button type="submit" className="button primary" disabled={add.isPending} aria-busy={add.isPending}>
        {add.isPending ? <Spinner /> : null}
        {add.isPending ? t("settings.checking") : t("settings.add")}
      </button>
    </form>
  );
}
