#!/usr/bin/env bash
# Benchmark: sender throughput to a real SMTP server (aiosmtpd on loopback): N emails
# queued through the API, timed until every one is `sent`, and counted at the server.
# The local runtime runs two consumer loops on the email-send queue, each handling up
# to ten messages at a time.
#   infra/bench/email-sender.sh [--emails 2000]
source "$(dirname "$0")/start-runtime.sh"
emails=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --emails) emails=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
base=$(field base_url); key=$(field api_key); session=$(field session_token); tenant=$(field tenant_id)
psql -q "$DATABASE_URL" -c "DELETE FROM emails WHERE tenant_id = '$tenant'"
body='{"from":{"email":"bench@example.com","name":"Bench"},"to":"reader@example.org","subject":"Benchmark","html":"<p>Hello <a href=\"https://example.org/x\">x</a></p>","text":"Hello"}'
python=${PM_VENV:-.venv}/bin/python
[ -x "$python" ] || { echo "run make venv first (aiosmtpd)" >&2; exit 1; }
sinkdir=$(mktemp -d /tmp/pm-bench-smtp-XXXXXX)
coproc SINK { exec "$python" shared/mail/tests/support/smtp_sink.py "$sinkdir"; }
read -r port <&"${SINK[0]}"
trap 'kill $server $SINK_PID 2>/dev/null; rm -rf "$creds" "$sinkdir"' EXIT
curl -sf -X PUT -H "Authorization: Bearer $session" -H 'Content-Type: application/json' \
  -d "{\"transport\":{\"type\":\"smtp\",\"host\":\"127.0.0.1\",\"port\":$port,\"security\":\"none\"},\"senders\":[\"@example.com\"]}" \
  "$base/api/v1/platform/email-providers" >/dev/null
echo "== $emails emails through the API and the sender to a local SMTP server"
start=$(date +%s.%N)
target/release/pm-load "$base/api/v1/emails/send" "$key" --concurrency 16 --requests "$emails" --warmup 0 --body "$body" >/dev/null
for _ in $(seq 1 1200); do
  sent=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM emails WHERE tenant_id = '$tenant' AND status = 'sent'")
  [ "$sent" -ge "$emails" ] && break; sleep 0.1
done
end=$(date +%s.%N)
arrived=$(find "$sinkdir" -name '*.json' | wc -l)
failed=$(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM emails WHERE tenant_id = '$tenant' AND status = 'failed'")
echo "sent: $sent of $emails, arrived at the SMTP server: $arrived, failed: $failed"
awk -v n="$emails" -v s="$start" -v e="$end" 'BEGIN { printf "throughput:  %.0f emails/s, from the first request to the last email sent, in %.2f s\n", n / (e - s), e - s }'
