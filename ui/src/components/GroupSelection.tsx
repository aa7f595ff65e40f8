import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { createCohort, tagDevices } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Cohort } from "../bindings/Cohort";
import type { Device } from "../bindings/Device";
import type { DeviceKey } from "../bindings/DeviceKey";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";

interface TagChange {
  add: string[];
  remove: string[];
}

const keysOf = (devices: readonly Device[]): DeviceKey[] => devices.map((d) => ({ accountId: d.accountId, deviceId: d.id }));

/**
 * Grouping what is ticked in the table: add or remove a local tag, or save the devices as a fixed cohort
 * (a campaign can then target it). Tag and cohort names are checked in Rust; its refusal is shown as is.
 */
export function GroupSelection({ selected }: { selected: readonly Device[] }) {
  const queryClient = useQueryClient();
  const [tag, setTag] = useState("");
  const [cohortName, setCohortName] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: queryKeys.devices });
  const tagging = useMutation<number, ApiError, TagChange>({
    mutationFn: ({ add, remove }) => tagDevices(keysOf(selected), add, remove),
    onSuccess: (changed, change) => {
      setDone(
        change.add.length > 0
          ? t("group.tagged", { tag: change.add[0] ?? "", count: changed })
          : t("group.untagged", { tag: change.remove[0] ?? "", count: changed }),
      );
      refresh();
    },
  });
  const saving = useMutation<Cohort, ApiError, string>({
    mutationFn: (name) => createCohort({ name, definition: { kind: "static", devices: keysOf(selected) } }),
    onSuccess: (cohort) => {
      setDone(t("group.cohortSaved", { name: cohort.name, count: cohort.deviceCount }));
      setCohortName("");
      refresh();
    },
  });
  const busy = tagging.isPending || saving.isPending;

  const saveCohort = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    tagging.reset();
    saving.mutate(cohortName.trim());
  };
  const changeTag = (change: TagChange) => {
    setDone(null);
    saving.reset();
    tagging.mutate(change);
  };

  return (
    <div className="group-selection" role="group" aria-label={t("group.label")}>
      <form
        className="inline-form"
        aria-label={t("group.tagForm")}
        onSubmit={(event) => {
          event.preventDefault();
          changeTag({ add: [tag.trim()], remove: [] });
        }}
      >
        <input aria-label={t("group.tag")} placeholder={t("group.tagPlaceholder")} value={tag} onChange={(e) => setTag(e.target.value)} />
        <button type="submit" className="button" disabled={busy || tag.trim() === ""}>
          {t("group.addTag")}
        </button>
        <button type="button" className="button" disabled={busy || tag.trim() === ""} onClick={() => changeTag({ add: [], remove: [tag.trim()] })}>
          {t("group.removeTag")}
        </button>
      </form>
      <form className="inline-form" aria-label={t("group.cohortForm")} onSubmit={saveCohort}>
        <input
          aria-label={t("group.cohortName")}
          placeholder={t("group.cohortPlaceholder")}
          value={cohortName}
          onChange={(e) => setCohortName(e.target.value)}
        />
        <button type="submit" className="button" disabled={busy || cohortName.trim() === ""}>
          {t("group.saveCohort", { count: selected.length })}
        </button>
      </form>
      {done ? (
        <p role="status" className="muted">
          {done}
        </p>
      ) : null}
      {tagging.error ? <ErrorMessage error={tagging.error} /> : null}
      {saving.error ? <ErrorMessage error={saving.error} /> : null}
    </div>
  );
}
