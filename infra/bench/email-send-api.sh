#!/usr/bin/env bash
# Benchmark: POST /api/v1/emails/send at 32 connections: authenticate, rate-limit,
# validate, check the sender and suppression, store the email queued with its timeline
# entry, put it on the queue, answer 202. The local runtime's sender loops are off
# (LOCAL_EMAIL_SEND_LOOPS=0): in AWS the sender is another function on other compute,
# and here it would share the two cores with the API (email-sender.sh times it).
#   infra/bench/email-send-api.sh [--requests 20000] [--warmup 2000]
export LOCAL_EMAIL_SEND_LOOPS=0
source "$(dirname "$0")/start-runtime.sh"
base=$(field base_url); key=$(field api_key); tenant=$(field tenant_id)
psql -q "$DATABASE_URL" -c "DELETE FROM emails WHERE tenant_id = '$tenant'"
body='{"from":{"email":"bench@example.com","name":"Bench"},"to":"reader@example.org","subject":"Benchmark","html":"<p>Hello <a href=\"https://example.org/x\">x</a></p>","text":"Hello","tags":["bench"]}'
echo "== POST /api/v1/emails/send"
target/release/pm-load "$base/api/v1/emails/send" "$key" --concurrency 32 --body "$body" "$@"
echo "emails stored: $(psql -tA "$DATABASE_URL" -c "SELECT count(*) FROM emails WHERE tenant_id = '$tenant'")"
