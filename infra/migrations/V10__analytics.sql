-- Analytics: counters kept as email events are recorded, so a report reads a few
-- thousand small rows instead of every event in its range.
--
-- email_stats holds counters per tenant, slice, grain and period. A slice is a view of the
-- tenant's mail: '' (all of it), 'campaign:<id>', 'step:<campaign id>:<step>',
-- 'sender:<from address>', 'workspace:<id>' (the recipient contact's) and 'tag:<tag>'.
-- Each event adds to every slice its email belongs to, three times: in its quarter-hour,
-- its hour and its day (UTC). Quarter-hours, because every time zone in use today is a
-- whole number of quarter-hours from UTC, so any zone's hours, days and weeks are sums of
-- whole rows; hours and days so that a report sums few rows (a 30-day range is about 30
-- day rows, and the hours and quarter-hours at its edges) rather than 2,880.
--
-- Counting happens in a trigger on email_events, inside the transaction that records the
-- event: a counter cannot disagree with the events, whichever code path wrote them, and a
-- rolled-back event is never counted. A repeated provider event never reaches it (the
-- dedupe index turns it into a no-op insert).

-- The zone a tenant's reports use unless a request names one. Set by the PenguinMails
-- app, which owns the tenant record (as it does the plan).
ALTER TABLE tenants ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

CREATE TABLE email_stats (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- "C" collation: 'step:<id>:' to 'step:<id>;' is then exactly one campaign's steps.
    slice            text COLLATE "C" NOT NULL,
    -- 'q' quarter-hour, 'h' hour, 'd' day (UTC); `bucket` is the period's start.
    grain            text NOT NULL CHECK (grain IN ('q', 'h', 'd')),
    bucket           timestamptz NOT NULL,
    sent             bigint NOT NULL DEFAULT 0,
    -- Sent emails that open a conversation: not a campaign's follow-up step.
    contacted        bigint NOT NULL DEFAULT 0,
    failed           bigint NOT NULL DEFAULT 0,
    delivered        bigint NOT NULL DEFAULT 0,
    opens            bigint NOT NULL DEFAULT 0,
    unique_opens     bigint NOT NULL DEFAULT 0,
    automated_opens  bigint NOT NULL DEFAULT 0,
    clicks           bigint NOT NULL DEFAULT 0,
    unique_clicks    bigint NOT NULL DEFAULT 0,
    automated_clicks bigint NOT NULL DEFAULT 0,
    replies          bigint NOT NULL DEFAULT 0,
    unique_replies   bigint NOT NULL DEFAULT 0,
    bounces          bigint NOT NULL DEFAULT 0,
    hard_bounces     bigint NOT NULL DEFAULT 0,
    soft_bounces     bigint NOT NULL DEFAULT 0,
    unsubscribes     bigint NOT NULL DEFAULT 0,
    complaints       bigint NOT NULL DEFAULT 0,
    -- Grain before slice: the campaign report reads every 'step:<id>:' slice's day rows
    -- as one index range, without walking their hour and quarter-hour rows.
    PRIMARY KEY (tenant_id, grain, slice, bucket)
)
-- Rows are updated in place all day (no indexed column changes): free room on each page
-- lets PostgreSQL write the new version beside the old (a HOT update) and prune the old.
WITH (fillfactor = 70);

-- The earliest time each email did each counted-once thing (delivered, first opened, ...):
-- the state that makes unique counts exact. A second open finds its row and counts only
-- as a total; a late event older than the recorded first moves the email's one unique
-- count to the earlier quarter-hour. Its row lock serialises two first opens racing.
CREATE TABLE email_firsts (
    email_id uuid NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
    kind     text NOT NULL,
    at       timestamptz NOT NULL,
    PRIMARY KEY (email_id, kind)
);

-- Adds `n` to each of `metrics` in every slice, in the quarter-hour, hour and day of `at`. One static
-- statement (its plan is cached) whatever the metric; slices are locked in sorted order
-- so two writers of the same rows queue rather than deadlock.
CREATE FUNCTION email_stats_bump(p_tenant uuid, p_slices text[], p_at timestamptz,
                                 p_metrics text[], p_n integer) RETURNS void
-- PL/pgSQL rather than SQL: its statement plan is kept for the session, where a SQL
-- function's would be made again on every call.
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO email_stats AS s (tenant_id, slice, grain, bucket, sent, contacted, failed, delivered,
        opens, unique_opens, automated_opens, clicks, unique_clicks, automated_clicks, replies,
        unique_replies, bounces, hard_bounces, soft_bounces, unsubscribes, complaints)
    SELECT p_tenant, slice, grain, date_bin(width, p_at, timestamptz '2000-01-01 00:00:00+00'),
        p_n * ('sent' = ANY(p_metrics))::int, p_n * ('contacted' = ANY(p_metrics))::int,
        p_n * ('failed' = ANY(p_metrics))::int, p_n * ('delivered' = ANY(p_metrics))::int,
        p_n * ('opens' = ANY(p_metrics))::int, p_n * ('unique_opens' = ANY(p_metrics))::int,
        p_n * ('automated_opens' = ANY(p_metrics))::int, p_n * ('clicks' = ANY(p_metrics))::int,
        p_n * ('unique_clicks' = ANY(p_metrics))::int,
        p_n * ('automated_clicks' = ANY(p_metrics))::int, p_n * ('replies' = ANY(p_metrics))::int,
        p_n * ('unique_replies' = ANY(p_metrics))::int, p_n * ('bounces' = ANY(p_metrics))::int,
        p_n * ('hard_bounces' = ANY(p_metrics))::int, p_n * ('soft_bounces' = ANY(p_metrics))::int,
        p_n * ('unsubscribes' = ANY(p_metrics))::int, p_n * ('complaints' = ANY(p_metrics))::int
    FROM (SELECT DISTINCT unnest(p_slices) AS slice) slices,
         (VALUES ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')) grains (grain, width)
    ORDER BY grain, slice
    ON CONFLICT (tenant_id, grain, slice, bucket) DO UPDATE SET
        sent = s.sent + excluded.sent, contacted = s.contacted + excluded.contacted,
        failed = s.failed + excluded.failed, delivered = s.delivered + excluded.delivered,
        opens = s.opens + excluded.opens, unique_opens = s.unique_opens + excluded.unique_opens,
        automated_opens = s.automated_opens + excluded.automated_opens,
        clicks = s.clicks + excluded.clicks, unique_clicks = s.unique_clicks + excluded.unique_clicks,
        automated_clicks = s.automated_clicks + excluded.automated_clicks,
        replies = s.replies + excluded.replies,
        unique_replies = s.unique_replies + excluded.unique_replies,
        bounces = s.bounces + excluded.bounces, hard_bounces = s.hard_bounces + excluded.hard_bounces,
        soft_bounces = s.soft_bounces + excluded.soft_bounces,
        unsubscribes = s.unsubscribes + excluded.unsubscribes,
        complaints = s.complaints + excluded.complaints;
END;
$$;

-- Counts `metric` once per email, at the earliest `kind` the email has had.
CREATE FUNCTION email_stats_once(p_tenant uuid, p_slices text[], p_email uuid, p_kind text,
                                 p_at timestamptz, p_metric text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    previous timestamptz;
BEGIN
    SELECT at INTO previous FROM email_firsts WHERE email_id = p_email AND kind = p_kind FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO email_firsts (email_id, kind, at) VALUES (p_email, p_kind, p_at)
            ON CONFLICT DO NOTHING;
        IF FOUND THEN
            PERFORM email_stats_bump(p_tenant, p_slices, p_at, ARRAY[p_metric], 1);
            RETURN;
        END IF;
        -- Another transaction counted this email's first a moment ago: compare with it.
        SELECT at INTO previous FROM email_firsts WHERE email_id = p_email AND kind = p_kind FOR UPDATE;
    END IF;
    IF p_at < previous THEN
        UPDATE email_firsts SET at = p_at WHERE email_id = p_email AND kind = p_kind;
        PERFORM email_stats_bump(p_tenant, p_slices, previous, ARRAY[p_metric], -1);
        PERFORM email_stats_bump(p_tenant, p_slices, p_at, ARRAY[p_metric], 1);
    END IF;
END;
$$;

-- What one email event adds. Opens and clicks flagged as automated (scanners, privacy
-- proxies) count only as automated: they are not people reading.
CREATE FUNCTION email_stats_count(ev email_events) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    e record;
    slices text[];
BEGIN
    SELECT em.campaign_id, em.campaign_step, lower(em.from_email) AS sender, em.tags,
           c.workspace_id
      INTO e
      FROM emails em LEFT JOIN contacts c ON c.id = em.contact_id
     WHERE em.id = ev.email_id;
    -- A slice whose dimension the email lacks comes out NULL ('campaign:' || NULL) and
    -- is dropped.
    slices := array_remove(ARRAY['', 'sender:' || e.sender, 'campaign:' || e.campaign_id,
                                 'step:' || e.campaign_id || ':' || e.campaign_step,
                                 'workspace:' || e.workspace_id]
                           || coalesce((SELECT array_agg('tag:' || t) FROM unnest(e.tags) t), '{}'),
                           NULL);
    CASE ev.type
    WHEN 'sent' THEN
        IF coalesce(e.campaign_step, 0) = 0 THEN
            PERFORM email_stats_bump(ev.tenant_id, slices, ev.occurred_at, ARRAY['sent', 'contacted'], 1);
        ELSE
            PERFORM email_stats_bump(ev.tenant_id, slices, ev.occurred_at, ARRAY['sent'], 1);
            -- Within its own step, a follow-up does open the conversation: a step's reply
            -- rate is over the emails that step sent.
            PERFORM email_stats_bump(ev.tenant_id, ARRAY['step:' || e.campaign_id || ':' || e.campaign_step],
                ev.occurred_at, ARRAY['contacted'], 1);
        END IF;
    WHEN 'failed' THEN
        PERFORM email_stats_bump(ev.tenant_id, slices, ev.occurred_at, ARRAY['failed'], 1);
    WHEN 'delivered' THEN
        PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, 'delivered', ev.occurred_at, 'delivered');
    WHEN 'opened', 'clicked' THEN
        IF ev.automated IS NOT NULL THEN
            PERFORM email_stats_bump(ev.tenant_id, slices, ev.occurred_at,
                ARRAY[CASE ev.type WHEN 'opened' THEN 'automated_opens' ELSE 'automated_clicks' END], 1);
        ELSE
            PERFORM email_stats_bump(ev.tenant_id, slices, ev.occurred_at,
                ARRAY[CASE ev.type WHEN 'opened' THEN 'opens' ELSE 'clicks' END], 1);
            PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, ev.type, ev.occurred_at,
                CASE ev.type WHEN 'opened' THEN 'unique_opens' ELSE 'unique_clicks' END);
        END IF;
    WHEN 'replied' THEN
        PERFORM email_stats_bump(ev.tenant_id, slices, ev.occurred_at, ARRAY['replies'], 1);
        PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, 'replied', ev.occurred_at, 'unique_replies');
    WHEN 'bounced' THEN
        PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, 'bounced', ev.occurred_at, 'bounces');
        IF ev.data->>'bounce_type' = 'hard' THEN
            PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, 'bounced_hard', ev.occurred_at, 'hard_bounces');
        ELSE
            PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, 'bounced_soft', ev.occurred_at, 'soft_bounces');
        END IF;
    WHEN 'unsubscribed' THEN
        PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, 'unsubscribed', ev.occurred_at, 'unsubscribes');
    WHEN 'complained' THEN
        PERFORM email_stats_once(ev.tenant_id, slices, ev.email_id, 'complained', ev.occurred_at, 'complaints');
    ELSE
        NULL;
    END CASE;
END;
$$;

CREATE FUNCTION email_events_counted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM email_stats_count(NEW);
    RETURN NULL;
END;
$$;

CREATE TRIGGER email_events_counted AFTER INSERT ON email_events
    FOR EACH ROW EXECUTE FUNCTION email_events_counted();

-- Events recorded before this migration: counted the same way (the counting does not
-- depend on the order events arrive in).
SELECT email_stats_count(ev) FROM email_events ev ORDER BY seq;
