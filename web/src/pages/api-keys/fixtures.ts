// Test data in the API's own shapes (openapi.yaml), shared by this folder's tests.
import type { ApiKey, ApiKeyList, ApiKeyUsage, NewApiKey } from "./api";

export const ZAPIER: ApiKey = {
  id: "7d3e2a1b-0c4f-4e7a-9b2d-5a6c7e8f9a0b",
  name: "Zapier",
  display: "pm_live_Ab3x…9QzK",
  scopes: ["manage_contacts", "read_analytics"],
  status: "active",
  created_by: "user-1",
  created_at: "2026-01-10T09:00:00Z",
  last_used_at: new Date(Date.now() - 5 * 60_000).toISOString(),
  request_count: 200,
  error_count: 10,
  revoked_at: null,
  expires_at: null,
  replaced_by: null,
};

export const BILLING: ApiKey = {
  ...ZAPIER,
  id: "1b0c5a8e-8f8a-4a1e-9d7e-2f0b8f0c1a11",
  name: "Billing service",
  display: "pm_live_Qw7e…3RtY",
  scopes: ["send_email"],
  status: "expiring",
  expires_at: "2099-01-01T00:00:00Z",
  last_used_at: null,
};

export const OLD: ApiKey = {
  ...ZAPIER,
  id: "2c1d6b9f-9a9b-4b2f-8e8f-3a1c9a1d2b22",
  name: "Old script",
  display: "pm_live_Zx9c…1VbN",
  scopes: ["manage_webhooks"],
  status: "revoked",
  revoked_at: "2026-02-01T00:00:00Z",
};

export const SECRET = "pm_live_Ab3xQ7tR2mN8vK4pL9sW1cY6dF0gH5jZ9QzK";

export const newKey = (key: ApiKey, secret = SECRET): NewApiKey => ({ ...key, secret });

export const page = (data: ApiKey[], next_cursor: string | null = null): ApiKeyList => ({
  data,
  pagination: { limit: 20, has_more: next_cursor !== null, next_cursor },
});

export const usage = (granularity: ApiKeyUsage["granularity"], points: [number, number][]): ApiKeyUsage => ({
  key_id: ZAPIER.id,
  granularity,
  from: "2026-03-01T00:00:00Z",
  to: "2026-03-02T00:00:00Z",
  data: points.map(([requests, errors], i) => ({
    at: new Date(Date.UTC(2026, 2, 1, i)).toISOString(),
    requests,
    errors,
  })),
});
