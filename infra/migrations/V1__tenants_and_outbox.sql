-- Tenants: every row of every later table belongs to one. The plan sets rate limits;
-- rate_limit_per_minute overrides the plan's figure for one tenant when set.
CREATE TABLE tenants (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    plan                  text NOT NULL DEFAULT 'starter'
                          CHECK (plan IN ('starter', 'pro', 'enterprise')),
    rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0),
    created_at            timestamptz NOT NULL DEFAULT now()
);

-- The transactional outbox: a domain change writes its event here in the same
-- transaction, so an event exists exactly when its change committed. A publisher sends
-- rows to the events queue and stamps published_at; anything left unstamped is re-sent.
CREATE TABLE event_outbox (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Commit order is not visible in timestamps (now() is fixed for a whole
    -- transaction), so events are relayed in insertion order by this sequence.
    position     bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type   text NOT NULL CHECK (event_type ~ '^[a-z_]+\.[a-z_]+$'),
    payload      jsonb NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

-- Only unpublished rows are scanned by the relay; a partial index keeps that cheap
-- however large the published history grows.
CREATE INDEX event_outbox_unpublished ON event_outbox (position) WHERE published_at IS NULL;
CREATE INDEX event_outbox_tenant ON event_outbox (tenant_id, occurred_at);
