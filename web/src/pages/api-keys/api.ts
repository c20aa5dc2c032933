// The API-key calls and shapes (openapi.yaml: ApiKey, NewApiKey, ApiKeyList, ApiKeyUsage).
import { useQueryClient } from "@tanstack/react-query";
import { api, query } from "../../api/client";
import { nextCursor, type Page } from "../../api/paging";

export const SCOPES = [
  "send_email",
  "read_analytics",
  "manage_contacts",
  "manage_campaigns",
  "manage_templates",
  "manage_domains",
  "read_inbox",
  "manage_webhooks",
] as const;

export type Scope = (typeof SCOPES)[number];

/** What each scope lets a key do, in one line, for the create form. */
export const SCOPE_EXPLANATIONS: Record<Scope, string> = {
  send_email: "Send transactional and campaign emails.",
  read_analytics: "Read email, campaign and contact figures.",
  manage_contacts: "Create, update, import and delete contacts and lists.",
  manage_campaigns: "Create, schedule, pause and delete campaigns.",
  manage_templates: "Create, update and delete email templates.",
  manage_domains: "Add, verify and remove sending domains.",
  read_inbox: "Read replies and messages that arrive in the inbox.",
  manage_webhooks: "Create, change and delete webhooks and see their deliveries.",
};

export type KeyStatus = "active" | "expiring" | "expired" | "revoked";

export interface ApiKey {
  id: string;
  name: string;
  display: string;
  scopes: Scope[];
  status: KeyStatus;
  created_by: string;
  created_at: string;
  last_used_at?: string | null;
  request_count: number;
  error_count: number;
  revoked_at?: string | null;
  expires_at?: string | null;
  replaced_by?: string | null;
}

export interface NewApiKey extends ApiKey {
  secret: string;
  previous_key?: ApiKey;
}

export type ApiKeyList = Page<ApiKey>;

export type Granularity = "minute" | "hour" | "day";

export interface UsagePoint {
  at: string;
  requests: number;
  errors: number;
}

export interface ApiKeyUsage {
  key_id: string;
  granularity: Granularity;
  from: string;
  to: string;
  data: UsagePoint[];
}

/** The one thing the dashboard keeps of a new key's secret, and only while its modal is open. */
export interface ShownSecret {
  name: string;
  secret: string;
}

const BASE = "/api/v1/platform/api-keys";

/** The dashboard's own address of the key list, or of one key's details. */
export const keyPath = (id?: string) =>
  id ? `/settings/developers/api-keys/${encodeURIComponent(id)}` : "/settings/developers/api-keys";

export const listKeys = (params: { limit: number; cursor?: string }) =>
  api<ApiKeyList>("GET", BASE + query(params));

/** One key by id. There is no GET for a single key, so this pages through the list. */
export async function findKey(id: string): Promise<ApiKey | null> {
  let cursor: string | undefined;
  do {
    const page = await listKeys({ limit: 100, cursor });
    const key = page.data.find((k) => k.id === id);
    if (key) return key;
    cursor = nextCursor(page);
  } while (cursor);
  return null;
}

export const createKey = (body: { name: string; scopes: Scope[] }) => api<NewApiKey>("POST", BASE, { body });

export const regenerateKey = (id: string, gracePeriodSeconds: number) =>
  api<NewApiKey>("POST", `${BASE}/${encodeURIComponent(id)}/regenerate`, {
    body: { grace_period_seconds: gracePeriodSeconds },
  });

export const revokeKey = (id: string) => api<void>("DELETE", `${BASE}/${encodeURIComponent(id)}`);

// Without from/to the API picks the window: the last hour by minute, the last 24 hours by
// hour, the last 30 UTC days by day.
export const getUsage = (id: string, granularity: Granularity) =>
  api<ApiKeyUsage>("GET", `${BASE}/${encodeURIComponent(id)}/usage${query({ granularity })}`);

export const keyQueries = {
  all: ["api-keys"] as const,
  list: ["api-keys", "list"] as const,
  one: (id: string) => ["api-keys", "one", id] as const,
  usage: (id: string, granularity: Granularity) => ["api-keys", "usage", id, granularity] as const,
};

/** After any change to a key: every list, key and usage query asks again. */
export function useRefreshKeys() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: keyQueries.all });
}
