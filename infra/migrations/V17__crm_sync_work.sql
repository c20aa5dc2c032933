-- The CRM sync's work (functions/integrations): what each connection maps, what waits
-- to be pushed, and the runs (backfill, reconciliation) with their cursors.

-- A tenant's field mapping for one provider (pm_crm::mapping::FieldMapping as JSON);
-- no row: the provider's defaults.
CREATE TABLE crm_field_mappings (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider   text NOT NULL,
    mappings   jsonb NOT NULL CHECK (jsonb_typeof(mappings) = 'array'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider)
);

-- Contacts waiting to be pushed, one row per contact however often it changed (the
-- coalescing): a change while a push is under way moves queued_at on, so the row
-- outlives that push and the newer change goes out too. leased_until keeps two
-- workers off the same contact.
CREATE TABLE crm_sync_pending (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider     text NOT NULL,
    contact_id   uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    queued_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    leased_until timestamptz,
    PRIMARY KEY (tenant_id, provider, contact_id)
);

CREATE INDEX crm_sync_pending_queue ON crm_sync_pending (tenant_id, provider, queued_at);

-- Email engagements waiting to be recorded on the CRM contact, one per email event.
CREATE TABLE crm_activity_pending (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider     text NOT NULL,
    event_id     uuid NOT NULL,
    contact_id   uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('sent', 'replied', 'bounced')),
    subject      text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    leased_until timestamptz,
    PRIMARY KEY (tenant_id, provider, event_id)
);

-- A contact's engagement, kept from the email events for the mapping's engagement
-- properties (penguinmails_last_opened, …) that CRM workflows act on.
CREATE TABLE crm_engagement (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    contact_id      uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    last_opened_at  timestamptz,
    last_replied_at timestamptz,
    -- What the contact's latest email came to: sent, opened, clicked, replied, bounced,
    -- unsubscribed; with the time it happened, so an older event never overwrites it.
    campaign_status text,
    status_at       timestamptz,
    PRIMARY KEY (tenant_id, contact_id)
);

-- Backfills and reconciliations: resumable from their cursors (each page commits its
-- cursor with its work), with their progress.
CREATE TABLE crm_sync_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider     text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('backfill', 'reconcile')),
    -- pull (reading the CRM's records), then push (sending ours), then done.
    phase        text NOT NULL DEFAULT 'pull' CHECK (phase IN ('pull', 'push', 'done')),
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    pull_cursor  text,
    push_cursor  uuid,
    pulled       integer NOT NULL DEFAULT 0,
    pushed       integer NOT NULL DEFAULT 0,
    created_here integer NOT NULL DEFAULT 0,
    drift        integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    last_error   text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    -- When a step last worked on it: a running run not touched for a while has lost its
    -- worker, and the schedule sends it on.
    touched_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- One run at a time per connection.
CREATE UNIQUE INDEX crm_sync_runs_one_running ON crm_sync_runs (tenant_id, provider)
    WHERE status = 'running';
CREATE INDEX crm_sync_runs_by_connection ON crm_sync_runs (tenant_id, provider, started_at DESC);

-- What the schedule's sweep of old log entries reads.
CREATE INDEX crm_sync_log_age ON crm_sync_log (at);
