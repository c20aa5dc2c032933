// Every CRM integration call the dashboard makes (openapi.yaml, tag Integrations) and
// their cache keys.
import { api, query } from "../../api/client";

export type IntegrationStatus = "unavailable" | "not_connected" | "connected" | "needs_reauth" | "disconnected";

export interface SyncRun {
  id: string;
  kind: "backfill" | "reconcile";
  phase: "pull" | "push" | "done";
  status: "running" | "completed" | "failed";
  pulled: number;
  pushed: number;
  created_here: number;
  drift: number;
  failed: number;
  last_error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface Integration {
  provider: string;
  name: string;
  status: IntegrationStatus;
  account_id: string | null;
  scopes: string[];
  connected_at: string | null;
  last_error: string | null;
  latest_run: SyncRun | null;
  pending: number;
}

export interface SyncLogEntry {
  id: number;
  direction: "push" | "pull";
  contact_id: string | null;
  external_id: string | null;
  outcome: "created" | "updated" | "unchanged" | "echo" | "failed";
  properties: string[];
  detail: string | null;
  at: string;
}

const BASE = "/api/v1/platform/integrations";
const one = (provider: string) => `${BASE}/${encodeURIComponent(provider)}`;

/** The dashboard's own address of the integrations page. */
export const INTEGRATIONS_PATH = "/settings/integrations";
/** How often the page asks again while a run is under way. */
export const POLL_MS = 3000;

export const integrationsApi = {
  list: () => api<{ data: Integration[] }>("GET", BASE).then((r) => r.data),
  connect: (provider: string) => api<{ authorize_url: string; expires_at: string }>("POST", `${one(provider)}/connect`),
  complete: (provider: string, code: string, state: string) =>
    api<Integration>("POST", `${one(provider)}/callback`, { body: { code, state } }),
  disconnect: (provider: string) => api<void>("DELETE", one(provider)),
  resync: (provider: string) => api<SyncRun>("POST", `${one(provider)}/resync`),
  replay: (provider: string) => api<{ queued: number }>("POST", `${one(provider)}/replay`),
  failures: (provider: string) =>
    api<{ data: SyncLogEntry[] }>("GET", `${one(provider)}/log` + query({ outcome: "failed", limit: 20 })).then(
      (r) => r.data,
    ),
};

export const integrationKeys = {
  list: () => ["integrations", "list"] as const,
  failures: (provider: string) => ["integrations", "failures", provider] as const,
};
