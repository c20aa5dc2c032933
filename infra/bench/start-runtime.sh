# Sourced by the benchmark scripts: builds the release binaries, starts the local
# runtime on its own database with the demo tenant's rate limit lifted (buckets are
# still taken on every request), and defines `field NAME` to read its credentials.
# The runtime stops when the calling script exits.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
infra/scripts/ensure-postgres.sh
cargo build --release -q -p pm-local -p pm-bench
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/penguinmails_bench?sslmode=disable}
creds=$(mktemp -u /tmp/pm-bench-XXXXXX.json)
log=$(mktemp /tmp/pm-bench-XXXXXX.log)
RUST_LOG=warn target/release/pm-local serve --port 0 --credentials-out "$creds" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$creds"' EXIT
for _ in $(seq 1 100); do [ -s "$creds" ] && break; sleep 0.2; done
[ -s "$creds" ] || { cat "$log"; echo "the local runtime did not start" >&2; exit 1; }
field() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" "$creds"; }
psql -q "$DATABASE_URL" -c "UPDATE tenants SET rate_limit_per_minute = 100000000 WHERE id = '$(field tenant_id)'"
