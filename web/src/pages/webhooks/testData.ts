// Test data in the API's shapes (openapi.yaml), shared by the webhook page tests.
import type { Handler } from "../../test/render";
import type { EventTypeInfo, Webhook, WebhookDelivery, WebhookDeliveryDetail, WebhookStats } from "./types";

export const WEBHOOK_ID = "4a9d6c2e-1b3f-4e5d-8c7a-9b0e1f2d3c4b";
export const SECRET = "whsec_c2FtcGxlLXNlY3JldC1kby1ub3QtdXNlLTMyLWJ5dGU=";
export const ROTATED_SECRET = "whsec_cm90YXRlZC1zYW1wbGUtZG8tbm90LXVzZS0zMmJ5dGU=";

export function aWebhook(overrides: Partial<Webhook> = {}): Webhook {
  return {
    id: WEBHOOK_ID,
    url: "https://hooks.acme.io/penguinmails",
    description: "CRM sync",
    event_types: ["email.bounced", "contact.created"],
    filters: { workspace_ids: [], campaign_ids: [], tags: ["vip"] },
    enabled: true,
    retry_policy: "standard",
    state: "healthy",
    disabled_reason: null,
    disabled_at: null,
    created_at: "2026-11-27T09:00:00Z",
    updated_at: "2026-11-27T09:00:00Z",
    ...overrides,
  };
}

export const EVENT_TYPES: EventTypeInfo[] = [
  {
    type: "email.sent",
    description: "An email was handed to the mail transport.",
    sample: { id: "9f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", to: "ada@example.com", sent_at: "2026-11-27T10:00:00Z" },
  },
  {
    type: "email.bounced",
    description: "An email bounced.",
    sample: { id: "9f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", to: "ada@example.com", bounce_type: "hard" },
  },
  {
    type: "campaign.started",
    description: "A campaign run started.",
    sample: { id: "0c7d2a8e-3f4b-4c1d-8e2f-6a5b4c3d2e1f", name: "Welcome" },
  },
  {
    type: "contact.created",
    description: "A contact was added.",
    sample: { id: "5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11", email: "ada@example.com", tags: ["vip"] },
  },
  {
    type: "contact.deleted",
    description: "A contact was deleted.",
    sample: { id: "5b3f4f0e-8c1a-4d0e-9a51-2f6f1f9d2c11" },
  },
];

export const eventTypesRoute: Record<string, Handler> = {
  "GET /api/v1/webhooks/event-types": () => ({ body: { data: EVENT_TYPES } }),
};

export function aDelivery(overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id: "3f2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
    event_id: "c25a0427-40c5-4cd4-8707-5650b54c80f6",
    event_type: "email.bounced",
    status: "failed",
    attempts: 2,
    next_attempt_at: null,
    last_attempt_at: "2026-11-27T10:00:05Z",
    succeeded_at: null,
    last_status_code: 500,
    last_error_kind: "http_status",
    created_at: "2026-11-27T10:00:00Z",
    ...overrides,
  };
}

export function aDeliveryDetail(): WebhookDeliveryDetail {
  const { attempts: _count, ...delivery } = aDelivery();
  return {
    ...delivery,
    attempts: [
      {
        attempt: 1,
        started_at: "2026-11-27T10:00:00Z",
        status_code: null,
        response_ms: 30000,
        error_kind: "timeout",
        response_excerpt: "",
        succeeded: false,
      },
      {
        attempt: 2,
        started_at: "2026-11-27T10:00:05Z",
        status_code: 500,
        response_ms: 87,
        error_kind: "http_status",
        response_excerpt: '{"error":"database down"}',
        succeeded: false,
      },
    ],
    payload: {
      id: delivery.event_id,
      type: "email.bounced",
      created_at: "2026-11-27T10:00:00Z",
      data: { to: "ada@example.com" },
    },
  };
}

export function someStats(overrides: Partial<WebhookStats> = {}): WebhookStats {
  return {
    window: "24h",
    attempts: 240,
    succeeded: 228,
    failed: 12,
    success_rate: 0.95,
    error_rate: 0.05,
    avg_response_ms: 183.4,
    p95_response_ms: 612,
    consecutive_failures: 0,
    state: "healthy",
    ...overrides,
  };
}

export const page = <T,>(data: T[], nextCursor: string | null = null) => ({
  body: { data, pagination: { limit: 20, has_more: nextCursor !== null, next_cursor: nextCursor } },
});
