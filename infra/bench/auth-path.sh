#!/usr/bin/env bash
# Benchmark: the authenticated request path, warm. Starts the local runtime (release
# build) on its own database, lifts the demo tenant's rate limit out of the way (the
# bucket is still taken on every request), then loads GET /api/v1/me on loopback.
#
#   infra/bench/auth-path.sh [--concurrency 32] [--requests 20000]
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/ensure-postgres.sh
cargo build --release -q -p pm-local -p pm-bench
db=penguinmails_bench
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$db}
creds=$(mktemp -u /tmp/pm-bench-XXXXXX.json)
log=$(mktemp /tmp/pm-bench-XXXXXX.log)
RUST_LOG=warn target/release/pm-local serve --port 0 --credentials-out "$creds" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$creds"' EXIT
for _ in $(seq 1 100); do [ -s "$creds" ] && break; sleep 0.2; done
[ -s "$creds" ] || { cat "$log"; echo "the local runtime did not start" >&2; exit 1; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$creds" "$1"; }
psql -q "$DATABASE_URL" -c "UPDATE tenants SET rate_limit_per_minute = 100000000 WHERE id = '$(field tenant_id)'"
target/release/pm-load "$(field base_url)/api/v1/me" "$(field api_key)" "$@"
