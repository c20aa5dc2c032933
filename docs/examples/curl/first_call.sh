#!/usr/bin/env bash
# Your first API call: GET /api/v1/me answers with the key's tenant, scopes and rate limit.
#   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... ./first_call.sh
set -euo pipefail
: "${PM_API_URL:?set PM_API_URL, e.g. http://127.0.0.1:3000}"
: "${PM_API_KEY:?set PM_API_KEY to an API key (pm_live_...)}"

body=$(mktemp)
trap 'rm -f "$body"' EXIT

# The key goes in through a file descriptor, not the command line, so `ps` never shows it.
status=$(curl -sS -o "$body" -w '%{http_code}' \
  -H @<(printf 'Authorization: Bearer %s\n' "$PM_API_KEY") \
  "$PM_API_URL/api/v1/me") || true

if [[ $status != 2?? ]]; then
  # Errors are RFC 9457 problem JSON; quote request_id when you contact support.
  jq -Rrs --arg status "$status" '(fromjson? // {}) as $p
    | "HTTP \($status) \($p.code // "-"): \($p.detail // "-") (request_id \($p.request_id // "-"))"' \
    "$body" >&2
  exit 1
fi
cat "$body"; echo
