-- Sync state per record and connection (functions/integrations/src/sync.rs): which CRM
-- record a contact is, and per mapped property the fingerprint of the last value pushed
-- and pulled (pm_crm::echo::FieldState as JSON), which makes loops detectable and
-- unchanged fields free. Values themselves are not kept here.
CREATE TABLE crm_sync_records (
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider           text NOT NULL,
    contact_id         uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    external_id        text NOT NULL,
    field_state        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(field_state) = 'object'),
    remote_modified_at timestamptz,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider, contact_id),
    UNIQUE (tenant_id, provider, external_id)
);

-- What was sent or received per record, the provider's answer and errors: the
-- per-record log the dashboard shows, and what a replay of failed items reads.
CREATE TABLE crm_sync_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider    text NOT NULL,
    contact_id  uuid,
    external_id text,
    direction   text NOT NULL CHECK (direction IN ('push', 'pull')),
    -- created, updated, unchanged, echo, failed
    outcome     text NOT NULL CHECK (outcome IN ('created', 'updated', 'unchanged', 'echo', 'failed')),
    properties  text[] NOT NULL DEFAULT '{}',
    detail      text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX crm_sync_log_by_record ON crm_sync_log (tenant_id, provider, contact_id, at);
CREATE INDEX crm_sync_log_failed ON crm_sync_log (tenant_id, provider, at) WHERE outcome = 'failed';
