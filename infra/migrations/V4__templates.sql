-- Email templates: a subject and an HTML and/or text body, with {{ variables }}
-- (minijinja syntax, HTML-escaped in the HTML body).
CREATE TABLE templates (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    subject    text NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
    html       text,
    text_body  text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (html IS NOT NULL OR text_body IS NOT NULL)
);

CREATE INDEX templates_by_created ON templates (tenant_id, created_at, id);
CREATE INDEX templates_by_updated ON templates (tenant_id, updated_at, id);
CREATE INDEX templates_by_name ON templates (tenant_id, name, id);
