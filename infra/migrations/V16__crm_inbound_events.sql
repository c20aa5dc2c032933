-- Provider webhooks already applied, by the provider's event id: a redelivered change
-- (HubSpot retries until it gets a 2xx) is applied once. Kept a week, longer than any
-- provider retries.
CREATE TABLE crm_inbound_events (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider    text NOT NULL,
    event_id    text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider, event_id)
);

CREATE INDEX crm_inbound_events_age ON crm_inbound_events (received_at);
