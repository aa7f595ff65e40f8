import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { removeAccount } from "../api";
import type { Account } from "../bindings/Account";
import type { ApiError } from "../bindings/ApiError";
import { useAccounts } from "../hooks/useServerState";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";
import { CloudBadge } from "./CloudBadge";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorMessage } from "./ErrorMessage";

/** Opted in to plain http (OneNET's documented http:// host): said in the list, since its traffic can be read. */
function usesPlainHttp(account: Account): boolean {
  return account.allowHttp && account.baseUrl.trim().toLowerCase().startsWith("http://");
}

export function AccountsTable() {
  const accounts = useAccounts();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState<Account | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);
  const remove = useMutation<Account, ApiError, string>({
    mutationFn: (name) => removeAccount(name),
    onSuccess: (account) => {
      setRemoved(account.name);
      setConfirming(null);
    },
    onSettled: () =>
      Promise.all(
        [queryKeys.accounts, queryKeys.devices, queryKeys.freshness, queryKeys.appInfo].map((queryKey) =>
          queryClient.invalidateQueries({ queryKey }),
        ),
      ),
  });

  if (accounts.isPending) return null;
  if (accounts.error) return <ErrorMessage error={accounts.error} onRetry={() => void accounts.refetch()} />;

  return (
    <>
      {accounts.data.length === 0 ? (
        <p className="empty-note">{t("settings.noAccounts")}</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table accounts-table" aria-label={t("settings.accountsTable")}>
            <thead>
              <tr>
                <th scope="col">{t("settings.colName")}</th>
                <th scope="col">{t("settings.colCloud")}</th>
                <th scope="col">{t("settings.colBaseUrl")}</th>
                <th scope="col">{t("settings.colUser")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("settings.colActions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {accounts.data.map((account) => (
                <tr key={account.id} data-account-name={account.name}>
                  <td>
                    {account.name}
                    {account.sandbox ? <span className="sandbox-tag">{t("settings.sandboxTag")}</span> : null}
                  </td>
                  <td>
                    <CloudBadge cloud={account.cloud} />
                  </td>
                  <td>
                    <span className="mono">{account.baseUrl}</span>
                    {usesPlainHttp(account) ? (
                      <span
                        className="plain-http-tag"
                        role="img"
                        aria-label={t("settings.plainHttpLabel")}
                        title={t("settings.plainHttpLabel")}
                      >
                        {t("settings.plainHttp")}
                      </span>
                    ) : null}
                  </td>
                  <td>{account.username ?? "—"}</td>
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="button small"
                      aria-label={t("settings.remove", { name: account.name })}
                      onClick={() => {
                        remove.reset();
                        setRemoved(null);
                        setConfirming(account);
                      }}
                    >
                      {t("settings.removeShort")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {removed ? (
        <p className="success-note" role="status">
          {t("settings.removed", { name: removed })}
        </p>
      ) : null}
      {remove.error && !confirming ? <ErrorMessage error={remove.error} /> : null}
      {confirming ? (
        <ConfirmDialog
          title={t("settings.confirmTitle", { name: confirming.name })}
          body={t("settings.confirmBody")}
          confirmLabel={t("settings.confirmRemove")}
          busy={remove.isPending}
          onConfirm={() => remove.mutate(confirming.name, { onError: () => setConfirming(null) })}
          onCancel={() => setConfirming(null)}
        />
      ) : null}
    </>
  );
}
