#!/usr/bin/env bash
# Benchmark: the analytics endpoints over 1,000,000 email events for one tenant, among
# ten tenants (the nine others with about 29,000 events each), at 8 connections.
#
# Seeds once (about 345,000 emails of the demo tenant over the last 30 days, 35,000
# contacts in five workspaces, 20 campaigns of three steps, five senders; every event is
# written through the counting trigger, as the application writes them), then measures:
# the 30-day report, the same with a campaign filter and as a daily series, a one-day
# hourly series, the 30-day CSV export, one campaign's report and one contact's report.
#   infra/bench/analytics.sh [--requests 3000] [--warmup 300]
source "$(dirname "$0")/start-runtime.sh"
tenant=$(field tenant_id)
seeded=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM email_events WHERE tenant_id = '$tenant'")
if [ "$seeded" -lt 1000000 ]; then
  echo "seeding (one-off; a few minutes: every event goes through the counting trigger)"
  start=$(date +%s)
  psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
-- Nine more tenants.
INSERT INTO tenants (name) SELECT 'Bench tenant ' || n FROM generate_series(1, 9) n;

CREATE TEMP TABLE bench_tenants AS
SELECT id, CASE WHEN id = '$tenant' THEN 35000 ELSE 1000 END AS contacts
FROM tenants WHERE id = '$tenant' OR name LIKE 'Bench tenant %';

INSERT INTO campaigns (tenant_id, name, sender, steps, audience, schedule)
SELECT t.id, 'Bench campaign ' || n, '{}',
       '[{"subject":"one"},{"subject":"two"},{"subject":"three"}]', '{}', '{}'
FROM bench_tenants t, generate_series(1, 20) n;

INSERT INTO contacts (tenant_id, email, workspace_id)
SELECT t.id, 'reader' || n || '@bench.example',
       ('00000000-0000-4000-8000-00000000000' || (n % 5))::uuid
FROM bench_tenants t, generate_series(1, t.contacts) n;

-- Ten emails per contact: most from a campaign step, the rest API sends with tags; each
-- sent at a deterministic minute of the last 30 days.
CREATE TEMP TABLE bench_emails AS
SELECT c.tenant_id, c.id AS contact_id, c.email, k,
       row_number() OVER () AS n,
       (SELECT array_agg(id ORDER BY name) FROM campaigns WHERE tenant_id = c.tenant_id) AS campaigns
FROM contacts c, generate_series(1, 10) k
WHERE c.tenant_id IN (SELECT id FROM bench_tenants);

INSERT INTO emails (tenant_id, message_id, status, from_email, to_email, subject, tags,
                    contact_id, campaign_id, campaign_step, queued_at, sent_at, created_at)
SELECT tenant_id, 'bench-' || n, 'sent', 'sender' || (n % 5) || '@bench.example', email, 'Bench',
       CASE WHEN n % 5 = 0 THEN ARRAY['news', 'tag' || (n % 3)] ELSE '{}' END,
       contact_id,
       -- Steps 0, 1, 2 of one campaign, then of the next: each (campaign, step) once
       -- per contact, as the scheduler sends them.
       CASE WHEN n % 5 <> 0 THEN campaigns[1 + ((hashtext(contact_id::text) & 1023) + (k - 1) / 3) % 20] END,
       CASE WHEN n % 5 <> 0 THEN ((k - 1) % 3)::int END,
       s, s, s
FROM (SELECT *, now() - interval '1 day' - ((n * 7919) % 41760) * interval '1 minute' AS s
      FROM bench_emails) e;

-- The events: sent; delivered (95 %) or bounced (5 %, half hard); opened (45 %, a second
-- open for 20 %); a scanner's open (10 %); clicked (10 %); replied (3 %); unsubscribed.
-- In batches of 1,000 emails, each committed, as the application's many small
-- transactions would be (one huge transaction would keep every superseded counter
-- version alive until its end).
CREATE TEMP TABLE bench_batches AS
SELECT id, (row_number() OVER (ORDER BY id) - 1) / 1000 AS batch
FROM emails WHERE message_id LIKE 'bench-%';
CREATE INDEX ON bench_batches (batch);
DO \$\$
DECLARE
  last bigint := (SELECT max(batch) FROM bench_batches);
BEGIN
  FOR b IN 0..last LOOP
    INSERT INTO email_events (tenant_id, email_id, type, source, occurred_at, dedupe_key, data, automated)
    SELECT tenant_id, e.id, type, 'bench', sent_at + after, dedupe, data, automated
    FROM emails e JOIN bench_batches bb ON bb.id = e.id AND bb.batch = b, LATERAL (
      SELECT * FROM (VALUES
        ('sent', interval '0', 'sent', '{}'::jsonb, NULL::text, true),
        ('delivered', interval '1 minute', 'delivered', '{}', NULL, hashtext(e.message_id) % 20 <> 0),
        ('bounced', interval '1 minute', 'bounce',
           jsonb_build_object('bounce_type', CASE WHEN hashtext(e.message_id) % 40 = 0 THEN 'hard' ELSE 'soft' END),
           NULL, hashtext(e.message_id) % 20 = 0),
        ('opened', interval '1 hour', NULL, '{}', NULL, abs(hashtext(e.message_id)) % 100 < 45),
        ('opened', interval '5 hours', NULL, '{}', NULL, abs(hashtext(e.message_id)) % 100 < 20),
        ('opened', interval '10 seconds', NULL, '{}', 'scanner', abs(hashtext(e.message_id || 'a')) % 10 = 0),
        ('clicked', interval '2 hours', NULL, '{}', NULL, abs(hashtext(e.message_id || 'c')) % 10 = 0),
        ('replied', interval '20 hours', 'reply', '{}', NULL, abs(hashtext(e.message_id || 'r')) % 100 < 3),
        ('unsubscribed', interval '21 hours', 'unsub', '{}', NULL, abs(hashtext(e.message_id || 'u')) % 200 = 0)
      ) v(type, after, dedupe, data, automated, keep) WHERE keep
    ) ev;
    COMMIT;
  END LOOP;
END
\$\$;

INSERT INTO campaign_recipients (campaign_id, contact_id, tenant_id, due_at, state, last_sent_at)
SELECT DISTINCT ON (campaign_id, contact_id) campaign_id, contact_id, tenant_id, now(),
       'active', now()
FROM emails WHERE campaign_id IS NOT NULL AND message_id LIKE 'bench-%';

ANALYZE;
SQL
  echo "seeded in $(( $(date +%s) - start )) s"
fi
psql -tA "$DATABASE_URL" <<SQL
SELECT 'email events, this tenant: ' || count(*) FROM email_events WHERE tenant_id = '$tenant';
SELECT 'email events, all ten tenants: ' || count(*) FROM email_events;
SELECT 'counter rows (email_stats), this tenant: ' || count(*) FROM email_stats WHERE tenant_id = '$tenant';
SQL
base=$(field base_url); key=$(field api_key)
campaign=$(psql -tA "$DATABASE_URL" -c "SELECT id FROM campaigns WHERE tenant_id = '$tenant' AND name = 'Bench campaign 1'")
contact=$(psql -tA "$DATABASE_URL" -c "SELECT id FROM contacts WHERE tenant_id = '$tenant' AND email = 'reader1@bench.example'")
yesterday=$(date -u -d yesterday +%F)
for path in \
  "/api/v1/analytics/emails" \
  "/api/v1/analytics/emails?campaign_id=$campaign" \
  "/api/v1/analytics/emails?interval=day" \
  "/api/v1/analytics/emails?from=$yesterday&to=$yesterday&interval=hour" \
  "/api/v1/analytics/export?format=csv" \
  "/api/v1/analytics/campaigns/$campaign" \
  "/api/v1/analytics/contacts/$contact"; do
  label=${path//$campaign/\{campaign\}}
  echo "== GET ${label//$contact/\{contact\}}"
  target/release/pm-load "$base$path" "$key" "$@" --concurrency 8 --requests 3000 --warmup 300
done
