#!/usr/bin/env bash
# Benchmark: what PostgreSQL row-level security would cost a tenant-scoped read, the
# shape every API request has. Two copies of one table (100 tenants x 1,000 rows), read
# by a non-superuser role (superusers bypass RLS):
#   plain  WHERE tenant_id = $1 (what the code does today)
#   rls    set_config('app.tenant_id', $1) then the same query without the condition,
#          the policy adding it (one more statement per request: a round trip)
#   infra/bench/rls-cost.sh [seconds per case, default 15]
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/ensure-postgres.sh
secs=${1:-15}
db=penguinmails_bench_rls
admin="postgresql://postgres@127.0.0.1:5432"
psql -q "$admin/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -q "$admin/$db" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pm_rls_bench') THEN
    CREATE ROLE pm_rls_bench LOGIN;
  END IF;
END $$;
CREATE TABLE plain (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT clock_timestamp(), body text);
CREATE INDEX ON plain (tenant_id, created_at, id);
INSERT INTO plain (tenant_id, body)
  SELECT md5(t::text)::uuid, repeat('x', 200) FROM generate_series(1, 100) t, generate_series(1, 1000);
CREATE TABLE secured (LIKE plain INCLUDING ALL);
INSERT INTO secured SELECT * FROM plain;
ALTER TABLE secured ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON secured USING (tenant_id = current_setting('app.tenant_id', true)::uuid);
GRANT SELECT ON plain, secured TO pm_rls_bench;
ANALYZE;
SQL
dir=$(mktemp -d)
cat >"$dir/plain.sql" <<'SQL'
\set t random(1, 100)
SELECT id, created_at FROM plain WHERE tenant_id = md5(:t::text)::uuid ORDER BY created_at DESC, id DESC LIMIT 20;
SQL
cat >"$dir/rls.sql" <<'SQL'
\set t random(1, 100)
SELECT set_config('app.tenant_id', md5(:t::text)::uuid::text, false);
SELECT id, created_at FROM secured ORDER BY created_at DESC, id DESC LIMIT 20;
SQL
for case in plain rls; do
  echo "== $case"
  pgbench -n -M prepared -c 8 -j 2 -T "$secs" -f "$dir/$case.sql" \
    "postgresql://pm_rls_bench@127.0.0.1:5432/$db" 2>/dev/null \
    | grep -E "^(tps|latency average|latency stddev)"
done
rm -rf "$dir"
