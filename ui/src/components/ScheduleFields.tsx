import { t, type MessageKey } from "../i18n";
import { formatOffset, localUtcOffset, type CampaignFormState } from "../lib/campaignForm";
import { CheckField, TextField } from "./Field";

const DAYS = [0, 1, 2, 3, 4, 5, 6];

interface Props {
  form: CampaignFormState;
  set: <K extends keyof CampaignFormState>(key: K, value: CampaignFormState[K]) => void;
}

/** When a campaign may start devices: an optional start time and an optional weekly maintenance window. */
export function ScheduleFields({ form, set }: Props) {
  return (
    <fieldset>
      <legend>{t("form.schedule")}</legend>
      <div className="form-grid">
        <TextField label={t("form.startAt")} value={form.startAt} onChange={(v) => set("startAt", v)} type="datetime-local" />
      </div>
      <CheckField label={t("form.useWindow")} checked={form.useWindow} onChange={(v) => set("useWindow", v)} />
      {form.useWindow ? (
        <>
          <div className="check-row" role="group" aria-label={t("form.windowDays")}>
            <span>{t("form.windowDays")}</span>
            {DAYS.map((day) => (
              <CheckField
                key={day}
                label={t(`day.${day}` as MessageKey)}
                checked={form.windowDays.includes(day)}
                onChange={(on) => set("windowDays", on ? [...form.windowDays, day] : form.windowDays.filter((d) => d !== day))}
              />
            ))}
          </div>
          <div className="form-grid">
            <TextField label={t("form.windowOpens")} value={form.windowOpens} onChange={(v) => set("windowOpens", v)} type="time" />
            <TextField label={t("form.windowCloses")} value={form.windowCloses} onChange={(v) => set("windowCloses", v)} type="time" />
          </div>
          <p className="muted">
            {t("form.utcOffset", { offset: formatOffset(localUtcOffset()) })}{" "}
            {form.windowDays.length === 0 ? t("form.everyDay") : null}
          </p>
        </>
      ) : null}
    </fieldset>
  );
}
