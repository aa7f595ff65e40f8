import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { publishFirmware } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { FirmwareEntry } from "../bindings/FirmwareEntry";
import { useAccounts } from "../hooks/useServerState";
import { t } from "../i18n";
import { cloudLabel } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { SelectField } from "./Field";
import { Modal } from "./Modal";

interface Props {
  firmware: FirmwareEntry;
  onClose: () => void;
}

/**
 * Publishes a library entry to one account of its cloud. For a real account whose cloud has no known
 * upload API the answer is an error that says so and where to do it: shown as it is.
 */
export function PublishDialog({ firmware, onClose }: Props) {
  const queryClient = useQueryClient();
  const accounts = useAccounts();
  const candidates = (accounts.data ?? [])
    .filter((a) => a.cloud === firmware.cloud)
    .sort((a, b) => Number(b.sandbox) - Number(a.sandbox) || a.name.localeCompare(b.name));
  const [chosen, setChosen] = useState<string>("");
  const accountId = Number(chosen || candidates[0]?.id || 0);
  const publish = useMutation<FirmwareEntry, ApiError>({
    mutationFn: () => publishFirmware(firmware.id, accountId),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.library });
      void queryClient.invalidateQueries({ queryKey: queryKeys.devices });
    },
  });
  const account = candidates.find((a) => a.id === accountId);
  const done = publish.data?.publications.find((p) => p.accountId === accountId);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (accountId) publish.mutate();
  };

  return (
    <Modal title={t("publish.title", { file: firmware.fileName, version: firmware.version })} onClose={onClose}>
      <form className="stack-form" onSubmit={submit}>
        {candidates.length === 0 && accounts.data ? (
          <p>{t("publish.noAccounts", { cloud: cloudLabel(firmware.cloud) })}</p>
        ) : (
          <SelectField
            label={t("publish.account")}
            value={String(accountId || "")}
            onChange={(value) => {
              setChosen(value);
              publish.reset();
            }}
          >
            {candidates.map((a) => (
              <option key={a.id} value={a.id}>
                {a.sandbox ? t("publish.sandbox", { name: a.name }) : a.name}
              </option>
            ))}
          </SelectField>
        )}
        {accounts.error ? <ErrorMessage error={accounts.error} onRetry={() => void accounts.refetch()} /> : null}
        {publish.error ? <ErrorMessage error={publish.error} /> : null}
        {done && account ? (
          <p role="status" className="success-note">
            {t("publish.done", { account: account.name, detail: done.detail })}
          </p>
        ) : null}
        <div className="modal-actions">
          <button type="button" className="button" onClick={onClose}>
            {t("add.close")}
          </button>
          <button type="submit" className="button primary" disabled={!accountId || publish.isPending} aria-busy={publish.isPending}>
            {publish.isPending ? t("publish.busy") : t("publish.submit")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
