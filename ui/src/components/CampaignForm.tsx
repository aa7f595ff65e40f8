import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { createCampaign, planCampaign } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { CampaignPlan } from "../bindings/CampaignPlan";
import type { CampaignView } from "../bindings/CampaignView";
import type { ErrorKind } from "../bindings/ErrorKind";
import type { NewCampaign } from "../bindings/NewCampaign";
import { useCohorts } from "../hooks/useCohorts";
import { useFirmwareList } from "../hooks/useLibrary";
import { t, type MessageKey } from "../i18n";
import {
  continuousNotAllowed,
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
import { PlannedWaves } from "./PlannedWaves";
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
  const cohorts = useCohorts();
  const [form, setForm] = useState<CampaignFormState>(initialForm);
  // The check is the plan: the pre-flight answer and, per wave, its devices and earliest start.
  const check = useMutation<CampaignPlan, ApiError, NewCampaign>({ mutationFn: planCampaign });
  const create = useMutation<CampaignView, ApiError, NewCampaign>({ mutationFn: createCampaign, onSuccess: onCreated });
  // A pre-flight answer describes the form as it was checked: any change makes it stale.
  const set = <K extends keyof CampaignFormState>(key: K, value: CampaignFormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    check.reset();
  };
  const campaign: NewCampaign | null = continuousNotAllowed(form) ? null : toNewCampaign(form, localUtcOffset());
  const wavesBad = parseWaves(form.waves) === null;
  const problem = numberProblem(form);

  const chooseFirmware = (value: string) => {
    const entry = firmware.data?.find((f) => f.id === Number(value));
    setForm((f) => ({ ...f, firmwareId: entry?.id ?? null, cloud: entry?.cloud ?? null }));
    check.reset();
  };

  const chooseCohort = (value: string) => {
    const cohort = cohorts.data?.find((c) => c.id === Number(value));
    setForm((f) => ({ ...f, cohortId: cohort?.id ?? null, cohortDynamic: cohort?.kind === "dynamic" }));
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
          <SelectField label={t("form.targetKind")} value={form.targetKind} onChange={(v) => set("targetKind", v === "cohort" ? "cohort" : "filter")}>
            <option value="filter">{t("form.targetFilter")}</option>
            <option value="cohort">{t("form.targetCohort")}</option>
          </SelectField>
          {form.targetKind === "filter" ? (
            <>
              <TextField label={t("form.search")} value={form.search} onChange={(v) => set("search", v)} type="search" />
              <CheckField label={t("form.online")} checked={form.onlineOnly} onChange={(v) => set("onlineOnly", v)} />
            </>
          ) : (
            <SelectField label={t("form.cohort")} value={form.cohortId === null ? "" : String(form.cohortId)} onChange={chooseCohort}>
              <option value="">{t("form.chooseCohort")}</option>
              {(cohorts.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {t("form.cohortOption", { name: c.name, kind: t(`cohorts.kind.${c.kind}` as MessageKey), count: c.deviceCount })}
                </option>
              ))}
            </SelectField>
          )}
        </div>
        {form.targetKind === "cohort" && cohorts.data?.length === 0 ? <p className="muted">{t("form.noCohorts")}</p> : null}
        {cohorts.error && form.targetKind === "cohort" ? <ErrorMessage error={cohorts.error} onRetry={() => void cohorts.refetch()} /> : null}
        {form.cloud && form.targetKind === "filter" ? <p className="muted">{t("form.targetsNote", { cloud: cloudLabel(form.cloud) })}</p> : null}
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

      <fieldset>
        <legend>{t("form.rules")}</legend>
        <div className="form-grid">
          <SelectField label={t("form.gate")} value={form.gate} onChange={(v) => set("gate", v === "manual" ? "manual" : "auto")}>
            <option value="auto">{t("form.gateAuto")}</option>
            <option value="manual">{t("form.gateManual")}</option>
          </SelectField>
          <TextField label={t("form.bake")} value={form.bakeMinutes} onChange={(v) => set("bakeMinutes", v)} type="number" min={0} />
          <TextField
            label={t("form.deviceTimeout")}
            value={form.deviceTimeoutMinutes}
            onChange={(v) => set("deviceTimeoutMinutes", v)}
            type="number"
            min={1}
            placeholder={t("form.deviceTimeoutHint")}
          />
        </div>
        <CheckField label={t("form.verifyVersion")} checked={form.verifyVersion} onChange={(v) => set("verifyVersion", v)} />
        <CheckField label={t("form.requireApproval")} checked={form.requireApproval} onChange={(v) => set("requireApproval", v)} />
        <CheckField label={t("form.continuous")} checked={form.continuous} onChange={(v) => set("continuous", v)} />
        {continuousNotAllowed(form) ? <p className="field-problem">{t("form.continuousNotAllowed")}</p> : null}
      </fieldset>

      <ScheduleFields form={form} set={set} />
      {windowIncomplete(form) ? <p className="field-problem">{t("form.badWindow")}</p> : null}

      {form.firmwareId === null ? <p className="muted">{t("form.noFirmware")}</p> : null}
      {check.error ? <ErrorMessage error={check.error} /> : null}
      {check.data ? <PreflightReport preflight={check.data.preflight} /> : null}
      {check.data ? <PlannedWaves plan={check.data} /> : null}
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
