#!/usr/bin/env bash
# Lists every contact, following the cursor page by page; prints one contact id per line.
#   PM_API_URL=http://127.0.0.1:3000 PM_API_KEY=pm_live_... [PM_PAGE_SIZE=100] ./paginate.sh
set -euo pipefail
: "${PM_API_URL:?set PM_API_URL, e.g. http://127.0.0.1:3000}"
: "${PM_API_KEY:?set PM_API_KEY to an API key (pm_live_...)}"
limit=${PM_PAGE_SIZE:-100}   # 1 to 100

page=$(mktemp)
trap 'rm -f "$page"' EXIT
cursor=""
while :; do
  # The cursor is keyset-based: pages stay consistent while contacts are added or removed.
  query=(--data-urlencode "limit=$limit")
  if [[ -n $cursor ]]; then query+=(--data-urlencode "cursor=$cursor"); fi
  status=$(curl -sS -G -o "$page" -w '%{http_code}' "${query[@]}" \
    -H @<(printf 'Authorization: Bearer %s\n' "$PM_API_KEY") \
    "$PM_API_URL/api/v1/contacts") || true

  if [[ $status != 2?? ]]; then
    jq -Rrs --arg status "$status" '(fromjson? // {}) as $p
      | "HTTP \($status) \($p.code // "-"): \($p.detail // "-") (request_id \($p.request_id // "-"))"' \
      "$page" >&2
    exit 1
  fi
  jq -r '.data[].id' "$page"
  # next_cursor is null on the last page.
  cursor=$(jq -r '.pagination.next_cursor // empty' "$page")
  if [[ -z $cursor ]]; then break; fi
done
