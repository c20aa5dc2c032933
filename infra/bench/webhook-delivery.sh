#!/usr/bin/env bash
# Benchmark: webhook delivery (dispatcher throughput, fan-out cost per webhook,
# event-to-delivery latency) on this machine's PostgreSQL with a loopback receiver.
#   infra/bench/webhook-delivery.sh [--deliveries 20000] [--rate 200] [--seconds 10] [--relay-ms 10] [--loops 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/ensure-postgres.sh
cargo build --release -q -p pm-bench --bin pm-webhook-bench
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/penguinmails_bench_webhooks?sslmode=disable}
RUST_LOG=${RUST_LOG:-error} exec target/release/pm-webhook-bench "$@"
