-- Webhook subscriptions. The signing secret is not here: it lives in the secrets port at
-- webhooks/{tenant_id}/{id}. Empty filter lists match everything.
CREATE TABLE webhooks (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                  text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description          text CHECK (length(description) <= 500),
    -- Event type names, or exactly {'*'} for every type.
    event_types          text[] NOT NULL CHECK (cardinality(event_types) >= 1),
    filter_workspace_ids uuid[] NOT NULL DEFAULT '{}',
    filter_campaign_ids  uuid[] NOT NULL DEFAULT '{}',
    filter_tags          text[] NOT NULL DEFAULT '{}',
    enabled              boolean NOT NULL DEFAULT true,
    retry_policy         text NOT NULL DEFAULT 'standard'
                         CHECK (retry_policy IN ('standard', 'extended')),
    state                text NOT NULL DEFAULT 'healthy'
                         CHECK (state IN ('healthy', 'degraded', 'failing', 'disabled')),
    disabled_reason      text,
    disabled_at          timestamptz,
    -- When the current run of failed attempts began (NULL after a success): a webhook
    -- failing for the disable period is disabled.
    failing_since        timestamptz,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhooks_by_created ON webhooks (tenant_id, created_at, id);
CREATE INDEX webhooks_by_updated ON webhooks (tenant_id, updated_at, id);
-- The fan-out's lookup: a tenant's enabled webhooks.
CREATE INDEX webhooks_enabled ON webhooks (tenant_id) WHERE enabled;

-- One delivery per (event, webhook): a redelivered event finds its deliveries and makes
-- none. The state machine: pending → sending → succeeded | retrying → sending … | failed.
-- `attempts` counts attempts made; a queue message names the attempt it is for, so a
-- stale or duplicated message finds nothing to claim. `round_start` is the first attempt
-- of the current retry schedule (a manual retry or recover starts a new one).
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL REFERENCES event_outbox (id) ON DELETE CASCADE,
    event_type       text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'retrying', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    round_start      integer NOT NULL DEFAULT 1,
    -- While `sending`: until when the claiming dispatcher owns the attempt.
    lease_until      timestamptz,
    next_attempt_at  timestamptz,
    -- Until when a queue message is believed in flight; after it, the requeue schedule
    -- sends one (a lost message, or a delay longer than SQS's 15 minutes).
    queued_until     timestamptz,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error_kind  text,
    succeeded_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at, id);
-- The requeue schedule's scan: only unfinished deliveries.
CREATE INDEX webhook_deliveries_unfinished ON webhook_deliveries (queued_until)
    WHERE status IN ('pending', 'sending', 'retrying');

-- Every attempt, as the receiver answered it.
CREATE TABLE webhook_attempts (
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    started_at       timestamptz NOT NULL,
    response_ms      integer NOT NULL,
    status_code      integer,
    error_kind       text,
    response_excerpt text NOT NULL DEFAULT '',
    succeeded        boolean NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
-- Health and stats read a webhook's recent attempts.
CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, started_at);

-- The relay isolates an event it cannot publish: it is marked with its error and no
-- longer holds back the events behind it.
ALTER TABLE event_outbox
    ADD COLUMN publish_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN publish_error    text,
    ADD COLUMN publish_failed_at timestamptz;
DROP INDEX event_outbox_unpublished;
CREATE INDEX event_outbox_unpublished ON event_outbox (position)
    WHERE published_at IS NULL AND publish_failed_at IS NULL;
