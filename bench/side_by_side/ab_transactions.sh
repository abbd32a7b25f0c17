#!/usr/bin/env bash
# A B A B: one scenario (default: transactions) against two condivisa binaries, one server at a
# time, on the database a side-by-side run seeded (bench_sbs_condivisa). Only the ratios of one
# run count.
# Usage: OLD=path/to/old NEW=path/to/new bash bench/side_by_side/ab_transactions.sh
# Env:   SCENARIOS=transactions DURATION=20s ROUNDS=2 PORT=8011
#        DB_URL=postgres://bench:bench@127.0.0.1:5432/bench_sbs_condivisa?sslmode=disable
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OLD="${OLD:?set OLD to the first binary}"
NEW="${NEW:?set NEW to the second binary}"
SCENARIOS="${SCENARIOS:-transactions}"
DURATION="${DURATION:-20s}"
ROUNDS="${ROUNDS:-2}"
PORT="${PORT:-8011}"
DB_URL="${DB_URL:-postgres://bench:bench@127.0.0.1:5432/bench_sbs_condivisa?sslmode=disable}"
OUT="${RESULTS_DIR:-/tmp/bench/ab}"
for round in $(seq "$ROUNDS"); do
  for which in OLD NEW; do
    bin="${!which}"
    env -u CONDIVISA_CONFIG DATABASE_URL="$DB_URL" \
      SECRET_KEY="$(head -c 36 /dev/urandom | base64 | tr -d '\n')" \
      BIND_ADDRESS="127.0.0.1:$PORT" RUST_LOG=warn "$bin" serve > "/tmp/ab-$which-$round.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do
      curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
      sleep 0.2  # waiting for the server to listen, not synchronising a test
    done
    SCENARIOS="$SCENARIOS" DURATION="$DURATION" LABEL="$which-r$round" \
      RESULTS_DIR="$OUT/$which-r$round" bash "$HERE/load.sh" "http://127.0.0.1:$PORT" 2>&1 |
      grep -E "^(scenario|$(echo "$SCENARIOS" | tr ' ' '|'))" | sed "s/^/$which r$round: /"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
