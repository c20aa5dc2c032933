// The webhook shapes of openapi.yaml (components/schemas), as the dashboard uses them.

export type WebhookState = "healthy" | "degraded" | "failing" | "disabled";
export type RetryPolicy = "standard" | "extended";
export type DeliveryStatus = "pending" | "sending" | "retrying" | "succeeded" | "failed";
export type StatsWindow = "1h" | "24h" | "7d";

/** `["*"]` alone means every event type. */
export const ALL_EVENTS = "*";

export interface WebhookFilters {
  workspace_ids: string[];
  campaign_ids: string[];
  tags: string[];
}

/** What POST and PUT take. */
export interface WebhookInput {
  url: string;
  description: string | null;
  event_types: string[];
  filters: WebhookFilters | null;
  enabled: boolean;
  retry_policy: RetryPolicy;
}

/** PATCH: only the fields sent change (`description: null` clears it). */
export type WebhookPatch = Partial<WebhookInput>;

export interface Webhook {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  filters: WebhookFilters;
  enabled: boolean;
  retry_policy: RetryPolicy;
  state: WebhookState;
  disabled_reason: string | null;
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The create answer: the only response that carries the secret unasked. */
export interface NewWebhook extends Webhook {
  secret: string;
}

export interface WebhookSecret {
  secret: string;
  /** When the previous secret stops signing; null when no rotation is in progress. */
  previous_expires_at: string | null;
}

export interface EventTypeInfo {
  type: string;
  description: string;
  sample: Record<string, unknown>;
}

export interface AttemptOutcome {
  /** The delivery the test send is recorded as: in the log, replayable. */
  delivery_id: string;
  success: boolean;
  status_code: number | null;
  response_ms: number;
  error_kind: string | null;
  response_excerpt: string;
}

export interface WebhookDelivery {
  id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  succeeded_at: string | null;
  last_status_code: number | null;
  last_error_kind: string | null;
  created_at: string;
}

export interface WebhookAttempt {
  attempt: number;
  started_at: string;
  status_code: number | null;
  response_ms: number;
  error_kind: string | null;
  response_excerpt: string;
  succeeded: boolean;
}

/** The JSON body of every delivery. */
export interface WebhookPayload {
  id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface WebhookDeliveryDetail extends Omit<WebhookDelivery, "attempts"> {
  attempts: WebhookAttempt[];
  payload: WebhookPayload;
}

export interface WebhookStats {
  window: StatsWindow;
  attempts: number;
  succeeded: number;
  failed: number;
  success_rate: number | null;
  error_rate: number | null;
  avg_response_ms: number | null;
  p95_response_ms: number | null;
  consecutive_failures: number;
  state: WebhookState;
}

/** The delivery log's filters, as the inputs hold them ("" = any). */
export interface DeliveryFilters {
  /** datetime-local values, in the reader's time zone. */
  from: string;
  to: string;
  eventType: string;
  status: "" | DeliveryStatus;
}
