import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { campaignPreflight, createCampaign } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { CampaignView } from "../bindings/CampaignView";
import type { ErrorKind } from "../bindings/ErrorKind";
import type { NewCampaign } from "../bindings/NewCampaign";
import type { Preflight } from "../bindings/Preflight";
import { useFirmwareList } from "../hooks/useLibrary";
import { t, type MessageKey } from "../i18n";
import {
  initialForm,
  localUtcOffset,
  numberProblem,
  parseWaves,
  toNewCampaign,
  windowIncomplete,
  type CampaignFormState,
} from "../lib/campaignForm";
import { cloudLabel } from "../lib/format";
import { ErrorMessage } from "./ErrorMessage";
import { CheckField, SelectField, TextField } from "./Field";
import { PreflightReport } from "./PreflightReport";
import { ScheduleFields } from "./ScheduleFields";

const RETRY_KINDS: ErrorKind[] = ["offline", "rate_limited", "retryable", "device"];

interface Props {
  onCreated: (campaign: CampaignView) => void;
  onCancel: () => void;
}

/** The New campaign form: firmware, a device filter, rollout rules, schedule; pre-flight, then create. */
export function CampaignForm({ onCreated, onCancel }: Props) {
  const firmware = useFirmwareList();
  const [form, setForm] = useState<CampaignFormState>(initialForm);
  const check = useMutation<Preflight, ApiError, NewCampaign>({ mutationFn: campaignPreflight });
  const create = useMutation<CampaignView, ApiError, NewCampaign>({ mutationFn: createCampaign, onSuccess: onCreated });
  // A pre-flight answer describes the form as it was checked: any change makes it stale.
  const set = <K extends keyof CampaignFormState>(key: K, value: CampaignFormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    check.reset();
  };
  const campaign: NewCampaign | null = toNewCampaign(form, localUtcOffset());
  const wavesBad = parseWaves(form.waves) === null;
  const problem = numberProblem(form);

  const chooseFirmware = (value: string) => {
    const entry = firmware.data?.find((f) => f.id === Number(value));
    setForm((f) => ({ ...f, firmwareId: entry?.id ?? null, cloud: entry?.cloud ?? null }));
    check.reset();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (campaign) create.mutate(campaign);
  };

  return (
    <form className="campaign-form stack-form" aria-label={t("form.title")} onSubmit={submit}>
      <h2 className="view-title">{t("form.title")}</h2>
      <div className="form-grid">
        <TextField label={t("form.name")} value={form.name} onChange={(v) => set("name", v)} required />
        <SelectField label={t("form.firmware")} value={form.firmwareId === null ? "" : String(form.firmwareId)} onChange={chooseFirmware}>
          <option value="">{t("form.chooseFirmware")}</option>
          {(firmware.data ?? []).map((f) => (
            <option key={f.id} value={f.id}>
              {t("form.firmwareOption", { file: f.fileName, version: f.version, cloud: cloudLabel(f.cloud) })}
            </option>
          ))}
        </SelectField>
      </div>
      {firmware.error ? <ErrorMessage error={firmware.error} onRetry={() => void firmware.refetch()} /> : null}

      <fieldset>
        <legend>{t("form.targets")}</legend>
        <div className="form-grid">
          <TextField label={t("form.search")} value={form.search} onChange={(v) => set("search", v)} type="search" />
          <CheckField label={t("form.online")} checked={form.onlineOnly} onChange={(v) => set("onlineOnly", v)} />
        </div>
        {form.cloud ? <p className="muted">{t("form.targetsNote", { cloud: cloudLabel(form.cloud) })}</p> : null}
      </fieldset>

      <fieldset>
        <legend>{t("form.rollout")}</legend>
        <div className="form-grid">
          <TextField label={t("form.waves")} value={form.waves} onChange={(v) => set("waves", v)} />
          <TextField label={t("form.concurrency")} value={form.concurrency} onChange={(v) => set("concurrency", v)} type="number" min={1} max={2000} />
          <TextField label={t("form.rate")} value={form.rate} onChange={(v) => set("rate", v)} type="number" min={0.1} step={0.1} />
          <TextField label={t("form.threshold")} value={form.threshold} onChange={(v) => set("threshold", v)} type="number" min={0} max={100} />
          <SelectField
            label={t("form.onThreshold")}
            value={form.onThreshold}
            onChange={(v) => set("onThreshold", v === "pause" ? "pause" : "abort")}
          >
            <option value="abort">{t("form.abort")}</option>
            <option value="pause">{t("form.pause")}</option>
          </SelectField>
          <TextField label={t("form.minBattery")} value={form.minBattery} onChange={(v) => set("minBattery", v)} type="number" min={0} max={100} />
          <TextField label={t("form.retries")} value={form.maxRetries} onChange={(v) => set("maxRetries", v)} type="number" min={0} max={10} />
          <TextField label={t("form.backoff")} value={form.backoff} onChange={(v) => set("backoff", v)} type="number" min={0} />
        </div>
        <p className={wavesBad ? "field-problem" : "muted"}>{wavesBad ? t("form.badWaves") : t("form.wavesHint")}</p>
        {problem ? (
          <p className="field-problem">
            {t(problem.whole ? "form.badWhole" : "form.badNumber", { field: t(problem.field), min: problem.min, max: problem.max })}
          </p>
        ) : null}
        <div className="check-row" role="group" aria-label={t("form.retryOn")}>
          <span>{t("form.retryOn")}</span>
          {RETRY_KINDS.map((kind) => (
            <CheckField
              key={kind}
              label={t(`form.retry.${kind}` as MessageKey)}
              checked={form.retryOn.includes(kind)}
              onChange={(on) => set("retryOn", on ? [...form.retryOn, kind] : form.retryOn.filter((k) => k !== kind))}
            />
          ))}
        </div>
      </fieldset>

      <ScheduleFields form={form} set={set} />
      {windowIncomplete(form) ? <p className="field-problem">{t("form.badWindow")}</p> : null}

      {form.firmwareId === null ? <p className="muted">{t("form.noFirmware")}</p> : null}
      {check.error ? <ErrorMessage error={check.error} /> : null}
      {check.data ? <PreflightReport preflight={check.data} /> : null}
      {create.error ? <ErrorMessage error={create.error} /> : null}
      <div className="modal-actions">
        <button type="button" className="button" onClick={onCancel}>
          {t("form.cancel")}
        </button>
        <button
          type="button"
          className="button"
          disabled={!campaign || check.isPending}
          aria-busy={check.isPending}
          onClick={() => campaign && check.mutate(campaign)}
        >
          {check.isPending ? t("form.checking") : t("form.check")}
        </button>
        <button type="submit" className="button primary" disabled={!campaign || create.isPending} aria-busy={create.isPending}>
          {create.isPending ? t("form.creating") : t("form.create")}
        </button>
      </div>
    </form>
  );
}
