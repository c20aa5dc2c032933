#!/usr/bin/env bash
# Benchmark: the authenticated request path, warm (GET /api/v1/me).
#   infra/bench/auth-path.sh [--concurrency 32] [--requests 20000] [--warmup 2000]
source "$(dirname "$0")/start-runtime.sh"
target/release/pm-load "$(field base_url)/api/v1/me" "$(field api_key)" "$@"
