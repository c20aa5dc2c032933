-- Contacts. Email is unique per tenant regardless of case; it is stored as given.
CREATE TABLE contacts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    first_name    text CHECK (length(first_name) <= 100),
    last_name     text CHECK (length(last_name) <= 100),
    company       text CHECK (length(company) <= 200),
    tags          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    custom_fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_fields) = 'object'),
    status        text NOT NULL DEFAULT 'subscribed'
                  CHECK (status IN ('subscribed', 'unsubscribed', 'bounced')),
    workspace_id  uuid,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE UNIQUE INDEX contacts_email_per_tenant ON contacts (tenant_id, lower(email));
-- One index per sortable field, each ending in id for keyset pagination.
CREATE INDEX contacts_by_created ON contacts (tenant_id, created_at, id);
CREATE INDEX contacts_by_updated ON contacts (tenant_id, updated_at, id);
CREATE INDEX contacts_by_email ON contacts (tenant_id, email, id);
CREATE INDEX contacts_tags ON contacts USING gin (tags);
