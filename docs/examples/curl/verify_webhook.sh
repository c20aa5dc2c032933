#!/usr/bin/env bash
# Verifies a webhook delivery's Standard Webhooks signature and prints `verified <event type>`.
#   PM_WEBHOOK_SECRET=whsec_... WEBHOOK_ID=... WEBHOOK_TIMESTAMP=... WEBHOOK_SIGNATURE='v1,...' \
#     ./verify_webhook.sh < body.json
# As a CGI handler the same values arrive as HTTP_WEBHOOK_ID, HTTP_WEBHOOK_TIMESTAMP and
# HTTP_WEBHOOK_SIGNATURE with the body on stdin: call verify before acting on the event.
set -euo pipefail

# verify SECRET ID TIMESTAMP SIGNATURES BODY_FILE: succeeds when the timestamp is fresh and
# one v1 signature matches; otherwise says why on stderr and fails.
verify() {
  local secret=$1 id=$2 timestamp=$3 body_file=$5 key_hex expected entry entries
  if [[ ! $timestamp =~ ^[0-9]+$ ]]; then echo "webhook-timestamp is not a number" >&2; return 1; fi
  # Refusing old (and far-future) timestamps stops a captured delivery from being replayed.
  local age=$(( $(date +%s) - 10#$timestamp ))
  if (( age > 300 || age < -300 )); then echo "webhook-timestamp is more than 5 minutes from now" >&2; return 1; fi
  # Note: the key is on openssl's command line while it runs, visible to local `ps`.
  key_hex=$(printf '%s' "${secret#whsec_}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
  if [[ -z $key_hex ]]; then echo "the secret is not whsec_ followed by base64" >&2; return 1; fi
  expected=$({ printf '%s.%s.' "$id" "$timestamp"; cat "$body_file"; } \
    | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | openssl base64 -A)
  # Several space-separated signatures arrive while a secret is being rotated; one must match.
  read -ra entries <<<"$4"
  for entry in "${entries[@]}"; do
    # Shell string comparison is NOT constant-time (it can leak how much of a guess is right
    # through timing): production code should use its language's constant-time compare.
    if [[ $entry == "v1,$expected" ]]; then return 0; fi
  done
  echo "no v1 signature matches" >&2
  return 1
}

: "${PM_WEBHOOK_SECRET:?set PM_WEBHOOK_SECRET to the webhook signing secret (whsec_...)}"
: "${WEBHOOK_ID:?set WEBHOOK_ID}" "${WEBHOOK_TIMESTAMP:?set WEBHOOK_TIMESTAMP}" "${WEBHOOK_SIGNATURE:?set WEBHOOK_SIGNATURE}"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
cat >"$body"   # a file, not a variable: $(cat) would drop trailing newlines and change the bytes
verify "$PM_WEBHOOK_SECRET" "$WEBHOOK_ID" "$WEBHOOK_TIMESTAMP" "$WEBHOOK_SIGNATURE" "$body" || exit 1
# Parse only after verifying. De-duplicate by WEBHOOK_ID: retries carry the same one.
type=$(jq -er .type "$body" 2>/dev/null) || { echo "the body is not a JSON event with a type" >&2; exit 1; }
echo "verified $type"
