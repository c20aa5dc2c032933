-- API keys. The key itself is never stored: the bcrypt hash lives in the secrets port
-- (api_keys/{tenant_id}/{id}); here is the metadata and an HMAC-SHA256 lookup hash
-- (keyed with a pepper from the secrets port) to find a key without scanning.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    display     text NOT NULL,
    lookup_hash bytea NOT NULL UNIQUE CHECK (length(lookup_hash) = 32),
    scopes      text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    -- Set when the key was rolled with a grace period: it works until then.
    expires_at  timestamptz,
    replaced_by uuid REFERENCES api_keys (id)
);

-- Listing a tenant's keys, newest first, with keyset pagination.
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at DESC, id DESC);

-- Usage per key and minute. Each writer (a Lambda container, or the local runtime)
-- adds to its own row, so concurrent requests never wait on one another's row lock;
-- readers sum the writers.
CREATE TABLE api_key_usage (
    key_id       uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    minute       timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
    writer       integer NOT NULL,
    requests     bigint NOT NULL DEFAULT 0 CHECK (requests >= 0),
    errors       bigint NOT NULL DEFAULT 0 CHECK (errors >= 0),
    last_used_at timestamptz NOT NULL,
    PRIMARY KEY (key_id, minute, writer)
);
