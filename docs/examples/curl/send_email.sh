#!/usr/bin/env bash
# Sends one email with POST /api/v1/emails/send; the API answers 202 with the email, queued.
#   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_FROM=team@example.com PM_TO=ada@example.org ./send_email.sh
set -euo pipefail
: "${PM_API_URL:?set PM_API_URL, e.g. http://127.0.0.1:3000}"
: "${PM_API_KEY:?set PM_API_KEY to an API key (pm_live_...)}"
: "${PM_FROM:?set PM_FROM to a registered sender of your account}"
: "${PM_TO:?set PM_TO to the recipient address}"

payload=$(jq -n --arg from "$PM_FROM" --arg to "$PM_TO" '{
  from: {email: $from, name: "Acme"},
  to: $to,
  subject: "Welcome to Acme",
  html: "<p>Hello! <a href=\"https://example.com/start\">Get started</a></p>",
  text: "Hello! Get started: https://example.com/start",
  tags: ["welcome"]
}')
# One key per email: resending after a timeout with the SAME key never sends it twice.
idempotency_key=$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)

body=$(mktemp)
trap 'rm -f "$body"' EXIT
# The key goes in through a file descriptor, not the command line, so `ps` never shows it.
status=$(curl -sS -o "$body" -w '%{http_code}' \
  -H @<(printf 'Authorization: Bearer %s\n' "$PM_API_KEY") \
  -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $idempotency_key" \
  --data-binary "$payload" \
  "$PM_API_URL/api/v1/emails/send") || true

if [[ $status != 2?? ]]; then
  # Errors are RFC 9457 problem JSON; 422 lists the fields at fault in errors[].
  jq -Rrs --arg status "$status" '(fromjson? // {}) as $p
    | "HTTP \($status) \($p.code // "-"): \($p.detail // "-") (request_id \($p.request_id // "-"))"' \
    "$body" >&2
  exit 1
fi
cat "$body"; echo   # then follow it at GET /api/v1/emails/{id}
