// Small pieces both webhook pages show the same way.
import { Badge, type BadgeLabel } from "../../components/Badge";
import { Chips } from "../../components/Chips";
import { ALL_EVENTS, type DeliveryStatus, type WebhookState } from "./types";

const HEALTH: Record<WebhookState, BadgeLabel> = {
  healthy: { label: "Healthy", tone: "ok" },
  degraded: { label: "Degraded", tone: "warn" },
  failing: { label: "Failing", tone: "danger" },
  disabled: { label: "Disabled", tone: "muted" },
};

export function HealthBadge({ state }: { state: WebhookState }) {
  return <Badge {...(HEALTH[state] ?? HEALTH.disabled)} />;
}

const DELIVERY: Record<DeliveryStatus, BadgeLabel> = {
  pending: { label: "Pending", tone: "muted" },
  sending: { label: "Sending", tone: "muted" },
  retrying: { label: "Retrying", tone: "warn" },
  succeeded: { label: "Succeeded", tone: "ok" },
  failed: { label: "Failed", tone: "danger" },
};

export const DELIVERY_STATUSES = Object.keys(DELIVERY) as DeliveryStatus[];
export const deliveryStatusLabel = (status: DeliveryStatus) => DELIVERY[status]?.label ?? status;

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return <Badge {...(DELIVERY[status] ?? { label: status, tone: "muted" })} />;
}

export function EventChips({ types }: { types: string[] }) {
  if (types.includes(ALL_EVENTS)) return <span className="chip">All events</span>;
  return <Chips items={types} />;
}

const ERROR_KINDS: Record<string, string> = {
  timeout: "timed out",
  dns: "the host name did not resolve",
  connect: "could not connect",
  tls: "the TLS handshake failed",
  refused_address: "the host resolved to an address deliveries may not reach",
  http_status: "answered with a non-2xx status",
  endpoint_disabled: "the webhook was disabled before it succeeded",
  other: "failed",
};

/** An attempt's `error_kind` in words. */
export const describeErrorKind = (kind: string | null) => (kind ? (ERROR_KINDS[kind] ?? kind) : "—");

export const formatMs = (ms: number | null | undefined) => (ms === null || ms === undefined ? "—" : `${Math.round(ms)} ms`);

/** Shown instead of the changing actions, so a member knows why they are missing. */
export function ReadOnlyNotice() {
  return (
    <p className="notice notice-info">
      You have the member role: you can look at webhooks and their deliveries, but only owners and admins can
      change them, send tests or see signing secrets.
    </p>
  );
}

