import { useQuery } from "@tanstack/react-query";

import { listWebhooks, webhookDeliveries } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Webhook } from "../bindings/Webhook";
import type { WebhookDelivery } from "../bindings/WebhookDelivery";
import { queryKeys } from "../queryKeys";

/**
 * Deliveries happen in the background without a change notice of their own on this desk: the list and the
 * log are read again this often while Settings is open (and the window is visible), and at once on an
 * audit notice.
 */
export const WEBHOOK_POLL_MS = 10_000;
/** Delivery attempts the log shows, newest first. */
export const DELIVERY_LIMIT = 100;

export function useWebhooks() {
  return useQuery<Webhook[], ApiError>({
    queryKey: queryKeys.webhookList,
    queryFn: listWebhooks,
    refetchInterval: WEBHOOK_POLL_MS,
  });
}

export function useWebhookDeliveries(webhookId: number | null) {
  return useQuery<WebhookDelivery[], ApiError>({
    queryKey: queryKeys.webhookDeliveries(webhookId ?? -1),
    queryFn: () => webhookDeliveries(webhookId ?? -1, DELIVERY_LIMIT),
    enabled: webhookId !== null,
    refetchInterval: WEBHOOK_POLL_MS,
  });
}

/** `campaign.*, campaign.paused` → ["campaign.*", "campaign.paused"]. */
export function parseEvents(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((e) => e.trim())
    .filter(Boolean);
}
