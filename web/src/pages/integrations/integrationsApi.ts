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

export type LocalField =
  | "email"
  | "first_name"
  | "last_name"
  | "company"
  | "phone"
  | "tags"
  | "status"
  | "last_opened_at"
  | "last_replied_at"
  | "campaign_status"
  | { custom: string };

export interface FieldMapping {
  local: LocalField;
  remote: string;
  direction: "push" | "pull" | "both";
  conflict: "crm_wins" | "penguinmails_wins" | "newest_wins";
  empty_overwrites?: boolean;
}

export interface CrmProperty {
  name: string;
  label: string;
  kind: string;
  read_only: boolean;
}

export interface Mapping {
  fields: FieldMapping[];
  /** The CRM's contact properties, when connected. */
  properties: CrmProperty[] | null;
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
  mapping: (provider: string) => api<Mapping>("GET", `${one(provider)}/mapping`),
  saveMapping: (provider: string, fields: FieldMapping[]) =>
    api<{ fields: FieldMapping[] }>("PUT", `${one(provider)}/mapping`, { body: { fields } }),
  failures: (provider: string) =>
    api<{ data: SyncLogEntry[] }>("GET", `${one(provider)}/log` + query({ outcome: "failed", limit: 20 })).then(
      (r) => r.data,
    ),
};

export const integrationKeys = {
  list: () => ["integrations", "list"] as const,
  failures: (provider: string) => ["integrations", "failures", provider] as const,
  mapping: (provider: string) => ["integrations", "mapping", provider] as const,
};
