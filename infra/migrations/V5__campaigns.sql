-- Campaigns: a sender, a sequence of steps, an audience and a sending schedule.
-- draft → active (start) ⇄ paused; → completed (by the sender, later).
CREATE TABLE campaigns (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sender     jsonb NOT NULL,
    steps      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(steps) = 'array'),
    audience   jsonb NOT NULL,
    schedule   jsonb NOT NULL,
    status     text NOT NULL DEFAULT 'draft'
               CHECK (status IN ('draft', 'active', 'paused', 'completed')),
    started_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX campaigns_by_created ON campaigns (tenant_id, created_at, id);
CREATE INDEX campaigns_by_updated ON campaigns (tenant_id, updated_at, id);
CREATE INDEX campaigns_by_name ON campaigns (tenant_id, name, id);

-- Which templates a campaign's steps use: a template in use cannot be deleted, even by
-- a delete racing a campaign update. Checked at commit (deferred), so deleting a whole
-- tenant, whose cascades remove campaigns and templates in one statement, still works.
CREATE TABLE campaign_templates (
    campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    template_id uuid NOT NULL REFERENCES templates (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (campaign_id, template_id)
);
CREATE INDEX campaign_templates_by_template ON campaign_templates (template_id);
