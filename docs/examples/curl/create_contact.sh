#!/usr/bin/env bash
# Creates a contact with POST /api/v1/contacts and prints it.
#   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... PM_CONTACT_EMAIL=ada@example.org ./create_contact.sh
set -euo pipefail
: "${PM_API_URL:?set PM_API_URL, e.g. http://127.0.0.1:3000}"
: "${PM_API_KEY:?set PM_API_KEY to an API key (pm_live_...)}"
: "${PM_CONTACT_EMAIL:?set PM_CONTACT_EMAIL to the address of the new contact}"

# jq builds the JSON, so any character in the address is escaped correctly.
payload=$(jq -n --arg email "$PM_CONTACT_EMAIL" '{email: $email, first_name: "Ada", last_name: "Lovelace"}')
# One key per logical request: if a timeout leaves you unsure whether it worked, resend with
# the SAME key and the API replays the first answer instead of creating the contact twice.
idempotency_key=$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)

body=$(mktemp)
trap 'rm -f "$body"' EXIT
# The key goes in through a file descriptor, not the command line, so `ps` never shows it.
status=$(curl -sS -o "$body" -w '%{http_code}' \
  -H @<(printf 'Authorization: Bearer %s\n' "$PM_API_KEY") \
  -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $idempotency_key" \
  --data-binary "$payload" \
  "$PM_API_URL/api/v1/contacts") || true

if [[ $status != 2?? ]]; then
  # Errors are RFC 9457 problem JSON (a duplicate email is 409 contact_exists).
  jq -Rrs --arg status "$status" '(fromjson? // {}) as $p
    | "HTTP \($status) \($p.code // "-"): \($p.detail // "-") (request_id \($p.request_id // "-"))"' \
    "$body" >&2
  exit 1
fi
cat "$body"; echo
