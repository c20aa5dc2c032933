// Every webhook call the dashboard makes, their cache keys, and the mutations both pages
// share (enable/disable, delete), so each cache update is written once.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, query } from "../../api/client";
import type { Page } from "../../api/paging";
import type {
  AttemptOutcome,
  DeliveryFilters,
  EventTypeInfo,
  NewWebhook,
  StatsWindow,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryDetail,
  WebhookInput,
  WebhookPatch,
  WebhookSecret,
  WebhookStats,
} from "./types";

const BASE = "/api/v1/webhooks";
const PAGE_SIZE = 20;
/**
 * How often an open webhook page asks again: its delivery log (and an open delivery), its
 * detail (health, state) and its statistics, so retries and their effects show as they happen.
 */
export const POLL_MS = 5000;
const one = (id: string) => `${BASE}/${encodeURIComponent(id)}`;

/** The dashboard's own address of the webhook list, or of one webhook. */
export const webhookPath = (id?: string) =>
  id ? `/settings/webhooks/${encodeURIComponent(id)}` : "/settings/webhooks";

/** A datetime-local value as the RFC 3339 instant the API filters by. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export const webhooksApi = {
  list: (cursor?: string) => api<Page<Webhook>>("GET", BASE + query({ limit: PAGE_SIZE, cursor })),
  eventTypes: () => api<{ data: EventTypeInfo[] }>("GET", `${BASE}/event-types`).then((r) => r.data),
  get: (id: string) => api<Webhook>("GET", one(id)),
  create: (input: WebhookInput) => api<NewWebhook>("POST", BASE, { body: input }),
  update: (id: string, patch: WebhookPatch) => api<Webhook>("PATCH", one(id), { body: patch }),
  remove: (id: string) => api<void>("DELETE", one(id)),
  secret: (id: string) => api<WebhookSecret>("GET", `${one(id)}/secret`),
  rotateSecret: (id: string) => api<WebhookSecret>("POST", `${one(id)}/rotate-secret`),
  test: (id: string, eventType: string) =>
    api<AttemptOutcome>("POST", `${one(id)}/test`, { body: { event_type: eventType } }),
  deliveries: (id: string, filters: DeliveryFilters, cursor?: string) =>
    api<Page<WebhookDelivery>>(
      "GET",
      `${one(id)}/deliveries` +
        query({
          limit: PAGE_SIZE,
          status: filters.status,
          event_type: filters.eventType,
          created_after: localToIso(filters.from),
          created_before: localToIso(filters.to),
          cursor,
        }),
    ),
  delivery: (id: string, deliveryId: string) =>
    api<WebhookDeliveryDetail>("GET", `${one(id)}/deliveries/${encodeURIComponent(deliveryId)}`),
  retry: (id: string, deliveryId: string) =>
    api<WebhookDelivery>("POST", `${one(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`),
  recover: (id: string, since: string) =>
    api<{ recovered: number }>("POST", `${one(id)}/recover`, { body: { since } }),
  stats: (id: string, window: StatsWindow) => api<WebhookStats>("GET", `${one(id)}/stats` + query({ window })),
};

export const webhookKeys = {
  list: () => ["webhooks", "list"] as const,
  detail: (id: string) => ["webhooks", "detail", id] as const,
  eventTypes: () => ["webhooks", "event-types"] as const,
  deliveries: (id: string) => ["webhooks", "deliveries", id] as const,
  delivery: (id: string, deliveryId: string) => ["webhooks", "delivery", id, deliveryId] as const,
  stats: (id: string) => ["webhooks", "stats", id] as const,
};

/** The event types barely change: one fetch serves the form, the test panel and the filters. */
export const eventTypesQuery = {
  queryKey: webhookKeys.eventTypes(),
  queryFn: webhooksApi.eventTypes,
  staleTime: Infinity,
};

/** After a change: the detail shows the answer at once, the list refetches. */
function useWebhookChanged() {
  const client = useQueryClient();
  return (webhook: Webhook) => {
    client.setQueryData(webhookKeys.detail(webhook.id), webhook);
    return client.invalidateQueries({ queryKey: webhookKeys.list() });
  };
}

export function useUpdateWebhook() {
  const changed = useWebhookChanged();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: WebhookPatch }) => webhooksApi.update(id, patch),
    onSuccess: changed,
  });
}

export function useDeleteWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => webhooksApi.remove(id),
    // The detail stays cached: removing it under an open detail page would refetch a 404.
    onSuccess: () => client.invalidateQueries({ queryKey: webhookKeys.list() }),
  });
}

export function useCreateWebhook(onCreated: (webhook: NewWebhook) => void) {
  const client = useQueryClient();
  return useMutation({
    // The new webhook (with its secret) goes straight to the caller and is not returned, so
    // the secret never rests in react-query's mutation cache: only in the one-time modal's state.
    mutationFn: async (input: WebhookInput) => {
      onCreated(await webhooksApi.create(input));
    },
    onSuccess: () => client.invalidateQueries({ queryKey: webhookKeys.list() }),
  });
}
