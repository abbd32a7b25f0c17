#!/usr/bin/env bash
# The soak (issue 18): condivisa (release build) on PostgreSQL, seeded like the side-by-side
# harness, under the harness's scenarios mixed (bench/side_by_side/lua/mixed.lua) at 80 % of the
# maximum rate it measures first, for MINUTES one-minute rounds. Per minute: requests/s, p99,
# non-2xx answers, socket errors, the server's resident memory. After: the pool's gauges once
# the load has stopped. It prints the table and the verdicts (0 5xx, 0 socket errors, the last
# minute's p99 within 1.5x the first's, memory flat, the pool back to idle) and exits 1 when
# one fails. A benchmark, not a test: it takes the machine for about MINUTES + 4 minutes.
#
#   cargo build --release && bash bench/soak.sh
#
# Env: MINUTES=10 CONNS=32 SHARE=80 (% of the measured maximum) CONDIVISA_BIN=target/release/condivisa
#      DB=bench_soak (recreated) PORT=8011 RESULTS_DIR=target/soak/<stamp>
#      PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres  VENV=~/.cache/condivisa-bench/soak-venv
set -euo pipefail
cd "$(dirname "$0")/.."
HERE="$(pwd)/bench/side_by_side"
MINUTES="${MINUTES:-10}"; CONNS="${CONNS:-32}"; SHARE="${SHARE:-80}"
CONDIVISA_BIN="${CONDIVISA_BIN:-target/release/condivisa}"
DB="${DB:-bench_soak}"; PORT="${PORT:-8011}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
RESULTS_DIR="${RESULTS_DIR:-target/soak/$(date +%Y%m%d-%H%M%S)}"
VENV="${VENV:-$HOME/.cache/condivisa-bench/soak-venv}"
mkdir -p "$RESULTS_DIR"; RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd)"
BASE="http://127.0.0.1:$PORT"
export FIRST_SUPERUSER_EMAIL="${FIRST_SUPERUSER_EMAIL:-admin@example.com}"
export FIRST_SUPERUSER_PASSWORD="${FIRST_SUPERUSER_PASSWORD:-changethis-admin-password}"

[[ -x "$CONDIVISA_BIN" ]] || { echo "no $CONDIVISA_BIN: cargo build --release" >&2; exit 2; }
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
if ! "$VENV/bin/python" -c 'import aiohttp' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet aiohttp
fi
PY="$VENV/bin/python"

psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
DB_URL="${PG_ADMIN_URL%/*}/$DB"
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
env DATABASE_URL="$DB_URL" SECRET_KEY="soak-secret-key-that-is-long-enough-1234" \
  BIND_ADDRESS="127.0.0.1:$PORT" RUST_LOG=warn "$CONDIVISA_BIN" serve >> "$RESULTS_DIR/condivisa.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 120); do curl -sf -m 2 -o /dev/null "$BASE/health" && break; sleep 0.5; done
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }

echo "== seeding $BASE (1,000 users, 10 configurations, 10,000 members, 20,000 transactions)"
(cd "$HERE" && "$PY" seed_condivisa.py "$BASE") > "$RESULTS_DIR/seed.txt" 2>&1
psql "$DB_URL" -qc "VACUUM ANALYZE"
export BENCH_DIR="$HERE" BENCH_PARAMS="$RESULTS_DIR/params.lua" RUN_ID="$(date +%s)-$$"
(cd "$HERE" && python3 prepare_load.py "$BASE" "$BENCH_PARAMS") > /dev/null

run() {  # run DURATION DELAY_MS LABEL: one wrk run of the mix; prints its RESULT line
  SCENARIO="$3" SOAK_DELAY_MS="$2" wrk -t1 -c"$CONNS" -d"$1" --timeout 10s \
    -s "$HERE/lua/mixed.lua" "$BASE" | tee "$RESULTS_DIR/$3.txt" | grep '^RESULT'
}
field() { sed -nE "s/.* $1=([0-9.]+).*/\1/p" <<< "$2"; }

echo "== the maximum: the mix unpaced for 20 s (after a 5 s warm-up)"
run 5s 0 warmup > /dev/null
max_line="$(run 20s 0 maximum)"
max_rps="$(field rps "$max_line")"
target="$(awk -v r="$max_rps" -v s="$SHARE" 'BEGIN { printf "%.1f", r * s / 100 }')"
# Pacing: a connection sends one request every (latency + delay) ms, and the latency falls as
# the load does, so the delay is found by trying: 10 s at a delay, then the delay that would
# have given the target at the latency just seen, until the rate is within 5 % of the target.
delay_ms="$(awk -v c="$CONNS" -v t="$target" 'BEGIN { printf "%d", c / t * 1000 }')"
for try in 1 2 3 4 5; do
  line="$(run 10s "$delay_ms" "calibrate$try")"
  rps="$(field rps "$line")"; p50="$(field p50_ms "$line")"
  echo "calibration $try: delay $delay_ms ms gives $rps req/s (target $target)"
  if awk -v a="$rps" -v t="$target" 'BEGIN { exit !(a >= t * 0.95 && a <= t * 1.05) }'; then break; fi
  delay_ms="$(awk -v d="$delay_ms" -v l="$p50" -v a="$rps" -v t="$target" \
    'BEGIN { n = (d + l) * a / t - l; if (n < 0) n = 0; printf "%d", n + 0.5 }')"
done
echo "maximum $max_rps req/s: the soak paces each connection by $delay_ms ms (target $target req/s, $SHARE %)"

table="$RESULTS_DIR/soak.md"
{
  echo "| minute | req/s | % of max | p99 ms | non-2xx | socket errors | RSS MB |"
  echo "|---|---|---|---|---|---|---|"
} > "$table"
echo "rss_before_mb=$(rss)" > "$RESULTS_DIR/rss.txt"
first_p99=""; last_p99=""; errors=0; rss_list=()
for minute in $(seq "$MINUTES"); do
  line="$(run 60s "$delay_ms" "minute$minute")"
  rps="$(field rps "$line")"; p99="$(field p99_ms "$line")"
  bad="$(field non2xx "$line")"; sock="$(field socket_errors "$line")"; mem="$(rss)"
  share="$(awk -v a="$rps" -v b="$max_rps" 'BEGIN { printf "%.0f", 100 * a / b }')"
  echo "| $minute | $rps | $share % | $p99 | $bad | $sock | $mem |" | tee -a "$table"
  [[ -z "$first_p99" ]] && first_p99="$p99"
  last_p99="$p99"; errors=$((errors + bad + sock)); rss_list+=("$mem")
done
sleep 2  # the last requests' connections go back to the pool
pool="$(curl -s "$BASE/metrics" | grep '^db_pool_connections' || true)"
echo "$pool" > "$RESULTS_DIR/pool.txt"
in_use="$(sed -nE 's/.*state="in_use".* ([0-9]+)$/\1/p' <<< "$pool")"
idle="$(sed -nE 's/.*state="idle".* ([0-9]+)$/\1/p' <<< "$pool")"

verdict=0
say() { echo "$1" | tee -a "$table"; }
say ""
say "maximum: $max_rps req/s unpaced; soak paced at $delay_ms ms per request per connection ($CONNS connections)"
if (( errors == 0 )); then say "- 0 non-2xx answers and 0 socket errors: met"; else say "- $errors non-2xx answers or socket errors: NOT met"; verdict=1; fi
if awk -v a="$last_p99" -v b="$first_p99" 'BEGIN { exit !(a <= 1.5 * b) }'; then
  say "- p99 of the last minute $last_p99 ms, of the first $first_p99 ms (≤ 1.5×): met"
else say "- p99 of the last minute $last_p99 ms > 1.5 × the first's $first_p99 ms: NOT met"; verdict=1; fi
# Flat memory: the last minute's RSS within 10 % (and 8 MB) of the second minute's, after warm-up.
second="${rss_list[1]:-${rss_list[0]}}"; last="${rss_list[-1]}"
if awk -v a="$last" -v b="$second" 'BEGIN { exit !(a <= b * 1.10 + 8) }'; then
  say "- resident memory ${second} MB after minute 2, ${last} MB after the last: flat, met"
else say "- resident memory grew from ${second} MB to ${last} MB: NOT met"; verdict=1; fi
if [[ "$in_use" == 0 ]]; then
  say "- pool after the load: 0 connections in use, ${idle:-?} idle: no leak, met"
else say "- pool after the load: ${in_use:-?} connections still in use, ${idle:-?} idle: NOT met"; verdict=1; fi
echo "== $table"
exit "$verdict"
