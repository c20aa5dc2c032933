#!/usr/bin/env bash
# Benchmark: listing pages of 100 from 100,000 contacts (GET /api/v1/contacts).
# Seeds the demo tenant with 100,000 contacts once, then measures the first page, a
# page deep in a cursor walk, and a filtered page.
#   infra/bench/list-contacts.sh [--concurrency 8] [--requests 5000]
source "$(dirname "$0")/start-runtime.sh"
tenant=$(field tenant_id)
psql -q "$DATABASE_URL" <<SQL
INSERT INTO contacts (tenant_id, email, first_name, company, tags)
SELECT '$tenant', 'bench' || lpad(n::text, 6, '0') || '@example.com', 'Name ' || n,
       'Company ' || (n % 1000), CASE WHEN n % 10 = 0 THEN ARRAY['vip'] ELSE ARRAY[]::text[] END
FROM generate_series(1, 100000) n
ON CONFLICT DO NOTHING;
ANALYZE contacts;
SQL
base=$(field base_url); key=$(field api_key)
count=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM contacts WHERE tenant_id = '$tenant'")
echo "contacts in the tenant: $count"
# Follow the cursor 500 pages deep (50,000 rows in) for the deep-page measurement.
deep="$base/api/v1/contacts?limit=100&sort_by=email&order=asc"
for _ in $(seq 1 500); do
  cursor=$(curl -sf -H "Authorization: Bearer $key" "$deep" | sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
  [ -n "$cursor" ] || { echo "no next_cursor after $deep" >&2; exit 1; }
  deep="$base/api/v1/contacts?limit=100&sort_by=email&order=asc&cursor=$cursor"
done
for url in "$base/api/v1/contacts?limit=100" "$deep" "$base/api/v1/contacts?limit=100&tag=vip&sort_by=email"; do
  echo "== GET ${url#$base}" | cut -c1-110
  target/release/pm-load "$url" "$key" --concurrency 8 --requests 5000 --warmup 500 "$@"
done
