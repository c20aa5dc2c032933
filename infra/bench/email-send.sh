#!/usr/bin/env bash
# Benchmark: sending email.
# 1. POST /api/v1/emails/send latency at 32 connections (validate, check sender and
#    suppression, store as queued with its timeline entry, put on the queue; answer 202),
#    through the demo tenant's capture transport, with the sender running alongside.
# 2. Sender throughput to a real SMTP server (aiosmtpd on loopback): N emails queued,
#    timed until every one is `sent`.
#   infra/bench/email-send.sh [--requests 20000] [--smtp-emails 2000]
source "$(dirname "$0")/start-runtime.sh"
requests=20000; smtp_emails=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests=$2; shift 2 ;;
    --smtp-emails) smtp_emails=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
base=$(field base_url); key=$(field api_key); session=$(field session_token); tenant=$(field tenant_id)
psql -q "$DATABASE_URL" -c "DELETE FROM emails WHERE tenant_id = '$tenant'"
body='{"from":{"email":"bench@example.com","name":"Bench"},"to":"reader@example.org","subject":"Benchmark","html":"<p>Hello <a href=\"https://example.org/x\">x</a></p>","text":"Hello"}'
echo "== POST /api/v1/emails/send (capture transport)"
target/release/pm-load "$base/api/v1/emails/send" "$key" --concurrency 32 --requests "$requests" --warmup 2000 --body "$body"

echo "== sender throughput to a local SMTP server ($smtp_emails emails)"
python=${PM_VENV:-.venv}/bin/python
[ -x "$python" ] || { echo "run make venv first (aiosmtpd)" >&2; exit 1; }
sinkdir=$(mktemp -d /tmp/pm-bench-smtp-XXXXXX)
coproc SINK { exec "$python" shared/mail/tests/support/smtp_sink.py "$sinkdir"; }
read -r port <&"${SINK[0]}"
trap 'kill $server $SINK_PID 2>/dev/null; rm -rf "$creds" "$sinkdir"' EXIT
curl -sf -X PUT -H "Authorization: Bearer $session" -H 'Content-Type: application/json' \
  -d "{\"transport\":{\"type\":\"smtp\",\"host\":\"127.0.0.1\",\"port\":$port,\"security\":\"none\"},\"senders\":[\"@example.com\"]}" \
  "$base/api/v1/platform/email-providers" >/dev/null
# Let the capture run drain first, so the timing below is the SMTP run's alone.
for _ in $(seq 1 600); do
  left=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM emails WHERE tenant_id = '$tenant' AND status IN ('queued','sending')")
  [ "$left" = 0 ] && break; sleep 0.5
done
before=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM emails WHERE tenant_id = '$tenant' AND status = 'sent'")
start=$(date +%s.%N)
target/release/pm-load "$base/api/v1/emails/send" "$key" --concurrency 16 --requests "$smtp_emails" --warmup 0 --body "$body" >/dev/null
for _ in $(seq 1 1200); do
  sent=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM emails WHERE tenant_id = '$tenant' AND status = 'sent'")
  [ $((sent - before)) -ge "$smtp_emails" ] && break; sleep 0.1
done
end=$(date +%s.%N)
arrived=$(ls "$sinkdir"/*.json 2>/dev/null | wc -l)
failed=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM emails WHERE tenant_id = '$tenant' AND status = 'failed'")
echo "sent: $((sent - before)) of $smtp_emails, arrived at the SMTP server: $arrived, failed: $failed"
awk -v n="$smtp_emails" -v s="$start" -v e="$end" 'BEGIN { printf "throughput:  %.0f emails/s (queued through the API and delivered over SMTP) in %.2f s\n", n / (e - s), e - s }'
