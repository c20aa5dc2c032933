-- CRM connections (shared/crm, functions/integrations): one per tenant and provider.
-- The OAuth tokens are not here: they live in the secrets port at
-- integrations/{tenant_id}/{provider}; this row says whether they work.
CREATE TABLE crm_connections (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider         text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]{1,30}$'),
    -- connected: the grant works; needs_reauth: the provider refused it (revoked,
    -- expired): the customer must connect again; disconnected: by the customer.
    status           text NOT NULL CHECK (status IN ('connected', 'needs_reauth', 'disconnected')),
    -- The provider's account (HubSpot's portal id), and what the grant allows.
    account_id       text,
    scopes           text[] NOT NULL DEFAULT '{}',
    token_expires_at timestamptz,
    last_error       text,
    connected_by     text,
    connected_at     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, provider)
);

-- An authorization in progress: the state sent to the provider, bound to the dashboard
-- user who started it, good once and for ten minutes. Only its hash is kept.
CREATE TABLE crm_oauth_states (
    state_hash    text PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       text NOT NULL,
    provider      text NOT NULL,
    redirect_uri  text NOT NULL,
    -- The PKCE verifier, for providers that take one: useless without the code the
    -- provider gives only to the redirect, and deleted with the state.
    pkce_verifier text,
    expires_at    timestamptz NOT NULL
);

CREATE INDEX crm_oauth_states_expiry ON crm_oauth_states (expires_at);
