-- Sending email: each tenant's transport, the emails themselves, their event timelines,
-- and campaign progress per recipient.

-- A complaint suppresses a contact like an unsubscribe or a hard bounce.
ALTER TABLE contacts DROP CONSTRAINT contacts_status_check;
ALTER TABLE contacts ADD CONSTRAINT contacts_status_check
    CHECK (status IN ('subscribed', 'unsubscribed', 'bounced', 'complained'));

-- One transport per tenant. Credentials are not here: they live in the secrets port at
-- email_providers/{tenant_id}; only their masked form is kept, for display.
-- `senders` are the From addresses the tenant may use: whole addresses, or `@domain`
-- for any address at that domain.
CREATE TABLE email_providers (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    settings           jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
    senders            text[] NOT NULL DEFAULT '{}' CHECK (cardinality(senders) <= 100),
    tracking           boolean NOT NULL DEFAULT true,
    credentials_masked jsonb NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- An email: queued by the API or a campaign, then sent (or failed) by the sender.
-- queued → sending → sent → delivered | bounced; sending → queued (retry) | failed.
CREATE TABLE emails (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The RFC 5322 Message-ID, without brackets: stable across retries.
    message_id          text NOT NULL UNIQUE,
    -- The key that sent it, and the Idempotency-Key it came with (if any): a retried
    -- request finds its email instead of making a second one.
    api_key_id          uuid,
    idempotency_key     text,
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'bounced', 'failed')),
    from_email          text NOT NULL,
    from_name           text,
    to_email            text NOT NULL,
    contact_id          uuid REFERENCES contacts (id) ON DELETE SET NULL,
    cc                  text[] NOT NULL DEFAULT '{}',
    bcc                 text[] NOT NULL DEFAULT '{}',
    reply_to            text,
    subject             text NOT NULL,
    html                text,
    text                text,
    headers             jsonb NOT NULL DEFAULT '{}',
    tags                text[] NOT NULL DEFAULT '{}',
    metadata            jsonb NOT NULL DEFAULT '{}',
    template_id         uuid,
    campaign_id         uuid REFERENCES campaigns (id) ON DELETE SET NULL,
    campaign_step       integer,
    tracking            boolean NOT NULL DEFAULT true,
    -- The tracked links of the sent HTML, by index: a click token names an index, and the
    -- click endpoint redirects only to the link stored here.
    links               text[] NOT NULL DEFAULT '{}',
    transport           text,
    provider_message_id text,
    -- For the `capture` transport: the message as it would have gone out.
    captured_mime       text,
    -- When it was queued: the first entry of its timeline (not a row of email_events,
    -- which would cost every send a second row and its indexes), and what a campaign's
    -- daily cap counts (set from the scheduler's clock).
    queued_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text,
    scheduled_at        timestamptz,
    -- While queued: when the sender may next try; while sending: until when the claiming
    -- sender owns it (a crashed sender's claim lapses).
    next_attempt_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    lease_until         timestamptz,
    sent_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE UNIQUE INDEX emails_idempotency ON emails (tenant_id, api_key_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- A campaign step goes to a contact once, however often the scheduler runs.
CREATE UNIQUE INDEX emails_campaign_step ON emails (campaign_id, campaign_step, contact_id)
    WHERE campaign_id IS NOT NULL;
CREATE INDEX emails_by_created ON emails (tenant_id, created_at, id);
-- Partial: most API sends have neither, and every index costs each insert.
CREATE INDEX emails_by_campaign ON emails (tenant_id, campaign_id, created_at)
    WHERE campaign_id IS NOT NULL;
CREATE INDEX emails_by_contact ON emails (tenant_id, contact_id, created_at)
    WHERE contact_id IS NOT NULL;
CREATE INDEX emails_by_recipient ON emails (tenant_id, lower(to_email), created_at);
CREATE INDEX emails_tags ON emails USING gin (tags);
CREATE INDEX emails_by_provider_id ON emails (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
-- The sender's sweep: queued emails that are due.
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status IN ('queued', 'sending');

-- An email's timeline after `queued` (that one is the email's `queued_at`). `dedupe_key` makes a repeated provider event (or a repeated
-- status change) a no-op; opens and clicks from tracking have none, each load counts.
-- `automated` names why a hit looks like a scanner or a privacy proxy (kept, flagged).
CREATE TABLE email_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email_id    uuid NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type IN ('queued', 'sent', 'delivered', 'opened', 'clicked',
                    'replied', 'bounced', 'unsubscribed', 'complained', 'failed')),
    source      text NOT NULL,
    dedupe_key  text,
    automated   text,
    data        jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Insertion order: breaks ties between entries of the same time (providers report
    -- whole seconds), so a timeline reads the same every time.
    seq         bigint GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX email_events_dedupe ON email_events (email_id, type, dedupe_key)
    WHERE dedupe_key IS NOT NULL;
CREATE INDEX email_events_by_email ON email_events (email_id, occurred_at);
CREATE INDEX email_events_by_tenant ON email_events (tenant_id, occurred_at);

-- A campaign's progress per contact: which step is next and when it is due. Filled from
-- the audience when the scheduler first sees the campaign active (and for contacts that
-- join the audience later). `state`: active → done | replied | suppressed.
CREATE TABLE campaign_recipients (
    campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id  uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    next_step   integer NOT NULL DEFAULT 0,
    due_at      timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'active'
                CHECK (state IN ('active', 'done', 'replied', 'suppressed')),
    last_sent_at timestamptz,
    PRIMARY KEY (campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_due ON campaign_recipients (campaign_id, due_at)
    WHERE state = 'active';

ALTER TABLE campaigns ADD COLUMN completed_at timestamptz;
