-- GET /api/v1/events lists a tenant's events newest first, optionally of one type; this
-- index serves both (the type-less listing uses event_outbox_tenant).
CREATE INDEX event_outbox_tenant_type ON event_outbox (tenant_id, event_type, occurred_at, id);
