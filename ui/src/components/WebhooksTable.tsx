import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { removeWebhook } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { DeliveryOutcome } from "../bindings/DeliveryOutcome";
import type { Webhook } from "../bindings/Webhook";
import type { WebhookDelivery } from "../bindings/WebhookDelivery";
import { useWebhookDeliveries, useWebhooks } from "../hooks/useWebhooks";
import { t } from "../i18n";
import { formatDateTime } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorMessage } from "./ErrorMessage";

export function outcomeLabel(outcome: DeliveryOutcome): string {
  return t(`webhooks.outcome.${outcome}`);
}

function lastDeliveryText(delivery: WebhookDelivery | null): string {
  if (!delivery) return t("webhooks.never");
  return t("webhooks.lastDelivery", {
    outcome: outcomeLabel(delivery.outcome),
    event: delivery.event,
    at: formatDateTime(delivery.at),
  });
}

/** The webhooks with their last delivery; Remove asks first. One is chosen for the delivery log below. */
export function WebhooksTable() {
  const webhooks = useWebhooks();
  const queryClient = useQueryClient();
  const [chosen, setChosen] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<Webhook | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);
  const remove = useMutation<Webhook, ApiError, number>({
    mutationFn: (id) => removeWebhook(id),
    onSuccess: (webhook) => {
      setRemoved(webhook.url);
      setConfirming(null);
    },
    onError: () => setConfirming(null),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.webhooks }),
  });

  if (webhooks.isPending) return null;
  if (webhooks.error) return <ErrorMessage error={webhooks.error} onRetry={() => void webhooks.refetch()} />;

  const list = webhooks.data;
  // The one chosen while it exists, else the first.
  const selected = list.find((w) => w.id === chosen) ?? list[0] ?? null;

  return (
    <>
      {list.length === 0 ? (
        <p className="empty-note">{t("webhooks.none")}</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table webhooks-table" aria-label={t("webhooks.table")}>
            <thead>
              <tr>
                <th scope="col">{t("webhooks.colUrl")}</th>
                <th scope="col">{t("webhooks.colEvents")}</th>
                <th scope="col">{t("webhooks.colLast")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("webhooks.colActions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((webhook) => (
                <tr key={webhook.id} data-webhook-id={webhook.id}>
                  <td className="mono webhook-url">{webhook.url}</td>
                  <td className="mono">{webhook.events.join(", ")}</td>
                  <td
                    className={webhook.lastDelivery ? `delivery-${webhook.lastDelivery.outcome}` : undefined}
                    title={webhook.lastDelivery?.error ?? undefined}
                  >
                    {lastDeliveryText(webhook.lastDelivery)}
                  </td>
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="button small"
                      aria-label={t("webhooks.showDeliveriesOf", { url: webhook.url })}
                      aria-pressed={selected?.id === webhook.id}
                      onClick={() => setChosen(webhook.id)}
                    >
                      {t("webhooks.showDeliveries")}
                    </button>
                    <button
                      type="button"
                      className="button small"
                      aria-label={t("webhooks.removeOf", { url: webhook.url })}
                      onClick={() => {
                        remove.reset();
                        setRemoved(null);
                        setConfirming(webhook);
                      }}
                    >
                      {t("webhooks.remove")}
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
          {t("webhooks.removed", { url: removed })}
        </p>
      ) : null}
      {remove.error && !confirming ? <ErrorMessage error={remove.error} /> : null}
      {selected ? <WebhookDeliveries webhook={selected} /> : null}
      {confirming ? (
        <ConfirmDialog
          title={t("webhooks.confirmTitle")}
          body={t("webhooks.confirmBody", { url: confirming.url })}
          confirmLabel={t("webhooks.confirmRemove")}
          busy={remove.isPending}
          onConfirm={() => remove.mutate(confirming.id)}
          onCancel={() => setConfirming(null)}
        />
      ) : null}
    </>
  );
}

/** Every delivery attempt to one webhook, newest first. */
export function WebhookDeliveries({ webhook }: { webhook: Webhook }) {
  const deliveries = useWebhookDeliveries(webhook.id);
  const titleId = `webhook-deliveries-${webhook.id}`;
  return (
    <section className="webhook-deliveries" aria-labelledby={titleId}>
      <h4 id={titleId}>{t("webhooks.deliveriesTitle", { url: webhook.url })}</h4>
      {deliveries.error ? (
        <ErrorMessage error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      ) : deliveries.data === undefined ? null : deliveries.data.length === 0 ? (
        <p className="empty-note">{t("webhooks.noDeliveries")}</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table compact" aria-label={t("webhooks.deliveriesTable")}>
            <thead>
              <tr>
                <th scope="col">{t("webhooks.colEvent")}</th>
                <th scope="col">{t("webhooks.colAttempt")}</th>
                <th scope="col">{t("webhooks.colStatus")}</th>
                <th scope="col">{t("webhooks.colOutcome")}</th>
                <th scope="col">{t("webhooks.colTime")}</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.map((delivery) => (
                <tr key={delivery.id} data-delivery-id={delivery.id}>
                  <td className="mono">{delivery.event}</td>
                  <td>{delivery.attempt}</td>
                  <td>{delivery.status ?? t("webhooks.noAnswer")}</td>
                  <td className={`delivery-${delivery.outcome}`}>
                    {outcomeLabel(delivery.outcome)}
                    {delivery.error ? <span className="muted delivery-error"> · {delivery.error}</span> : null}
                  </td>
                  <td>{formatDateTime(delivery.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
