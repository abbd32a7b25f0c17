#!/usr/bin/env bash
# PostgreSQL's own ceiling for the members and test-token scenarios: the statements one request
# needs, run by pgbench straight on the database (no HTTP server), 32 clients, prepared
# statements, over TCP on the loopback like the servers. It tells how far a server is from what
# its database alone could do on this machine.
#
# Usage: pg_ceiling.sh SCHEMA PGURL
#   SCHEMA fastapi:   the FastAPI reference's tables (SQL copied from SQLAlchemy's compiled
#                     statements), seeded by seed_fastapi.py
#   SCHEMA condivisa: condivisa's tables (migration/src), seeded by seed_condivisa.py
# Env: CLIENTS=32 JOBS=2 PG_DURATION=20 (seconds) VARIANTS="plain tx test_token"
#      QUIET_MAX=10 (% CPU) QUIET_WAIT=600 (s): wait, at most that long, for an idle machine
# Variants (per pgbench "transaction" = one request):
#   plain:      members page: user by id; count of the members of one configuration of the
#               vendor's organization; that page of 50 ordered by id; autocommit
#               (condivisa reads this way; since its migration 16 the count is the
#               configuration's stored members_count, read within the scope)
#   tx:         the same inside BEGIN ... ROLLBACK (what the FastAPI reference's SQLAlchemy
#               does: autobegin on the first statement, rollback when the request is done)
#   claimed:    condivisa only: the members page as condivisa sends it since it reads on the
#               access token's claim — one statement, the stored total within the scope and the
#               claim (an active user with that id, role and organisation) checked inside
#   claimed_planner: condivisa only: "claimed" with the planner setting condivisa gives its own
#               sessions (random_page_cost=1.1, src/db/mod.rs), under which PostgreSQL reads
#               the page through (configuration_id, id) instead of walking the primary key
#   test_token: user by id alone (every authenticated request loads its user)
# Prints one line per variant: RESULT pg_ceiling schema=.. variant=.. tps=.. latency_avg_ms=..
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SCHEMA="${1:?usage: pg_ceiling.sh fastapi|condivisa PGURL}"
PGURL="${2:?usage: pg_ceiling.sh fastapi|condivisa PGURL}"
case "$PGURL" in *@127.*|*@localhost*|*@\[::1\]*) ;; *) echo "refusing non-loopback database" >&2; exit 2 ;; esac
case "$SCHEMA" in fastapi|condivisa) ;; *) echo "unknown schema '$SCHEMA' (fastapi or condivisa)" >&2; exit 2 ;; esac
CLIENTS="${CLIENTS:-32}"; JOBS="${JOBS:-2}"; PG_DURATION="${PG_DURATION:-20}"
VARIANTS="${VARIANTS:-plain tx test_token}"
QUIET_MAX="${QUIET_MAX:-10}"; QUIET_WAIT="${QUIET_WAIT:-600}"
PYTHON="${PYTHON:-python3}"
PGPORT_OF_URL="$(printf '%s' "$PGURL" | sed -nE 's#^[a-z]+://[^@]*@[^:/]+:([0-9]+).*#\1#p')"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

q() { psql "$PGURL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
VENDOR_ID="$(q "SELECT id FROM users WHERE email = 'vendor@bench.example.com'")"
[[ -n "$VENDOR_ID" ]] || { echo "no seeded vendor in this database: seed it first" >&2; exit 1; }
ORG_ID="$(q "SELECT organization_id FROM users WHERE id = $VENDOR_ID")"
read -r CMIN CMAX CN < <(q "SELECT min(id), max(id), count(*) FROM configurations WHERE organization_id = $ORG_ID" | tr '|' ' ')
[[ $((CMAX - CMIN + 1)) -eq $CN ]] || { echo "configuration ids not contiguous; adapt the script" >&2; exit 1; }
echo "schema=$SCHEMA vendor id=$VENDOR_ID org=$ORG_ID configurations $CMIN..$CMAX; members=$(q 'SELECT count(*) FROM members')"

if [[ "$SCHEMA" == fastapi ]]; then
  USER_SQL="SELECT users.id, users.email, users.username, users.full_name, users.fiscal_code, users.type, users.user_type, users.address, users.hashed_password, users.role, users.status, users.organization_id, users.created_at FROM users WHERE users.id = :uid;"
  COUNT_SQL="SELECT count(*) AS count_1 FROM members JOIN configurations ON configurations.id = members.configuration_id WHERE configurations.organization_id = :org AND members.configuration_id = :cfg;"
  PAGE_SQL="SELECT members.id, members.configuration_id, members.user_id, members.pod, members.role, members.status, members.plant_power_kw, members.storage_capacity_kwh, members.joined_at, members.withdrawn_at, members.created_at FROM members JOIN configurations ON configurations.id = members.configuration_id WHERE configurations.organization_id = :org AND members.configuration_id = :cfg ORDER BY members.id LIMIT 50 OFFSET 0;"
else
  # condivisa scopes a vendor's members by "configuration_id IN (its organization's configurations)".
  # The column lists are read from the database, so the ceiling follows the migrations (the
  # server selects every stored column of its entities, not the generated users.search_text).
  cols() { q "SELECT string_agg('$1.' || column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '$1' AND is_generated = 'NEVER'"; }
  USER_SQL="SELECT $(cols users) FROM users WHERE users.id = :uid LIMIT 1;"
  # Since migration 16 the page's total is the configuration's members_count (kept by triggers)
  # and the page needs no scope subquery: the configuration's row is read within the scope.
  if [[ -n "$(q "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'configurations' AND column_name = 'members_count'")" ]]; then
    COUNT_SQL="SELECT configurations.members_count FROM configurations WHERE configurations.id = :cfg AND configurations.organization_id = :org;"
    PAGE_SQL="SELECT $(cols members) FROM members WHERE members.configuration_id = :cfg ORDER BY members.id LIMIT 50 OFFSET 0;"
    VENDOR_ROLE="$(q "SELECT role FROM users WHERE id = $VENDOR_ID")"
    CLAIMED_SQL="SELECT counted.total, page.* FROM (SELECT configurations.members_count AS total FROM configurations WHERE configurations.id = :cfg AND configurations.organization_id = :org AND EXISTS (SELECT 1 FROM users WHERE users.id = :uid AND users.status = 'active' AND users.role = '$VENDOR_ROLE' AND users.organization_id = :org)) AS counted LEFT JOIN (SELECT $(cols members) FROM members WHERE members.configuration_id = :cfg ORDER BY members.id LIMIT 50 OFFSET 0) AS page ON 1 = 1 ORDER BY page.id;"
  else
    COUNT_SQL="SELECT count(*) FROM members WHERE members.configuration_id IN (SELECT configurations.id FROM configurations WHERE configurations.organization_id = :org) AND members.configuration_id = :cfg;"
    PAGE_SQL="SELECT $(cols members) FROM members WHERE members.configuration_id IN (SELECT configurations.id FROM configurations WHERE configurations.organization_id = :org) AND members.configuration_id = :cfg ORDER BY members.id LIMIT 50 OFFSET 0;"
  fi

fi
VARS="\\set uid $VENDOR_ID
\\set org $ORG_ID
\\set cfg random($CMIN, $CMAX)"
printf '%s\n%s\n%s\n%s\n' "$VARS" "$USER_SQL" "$COUNT_SQL" "$PAGE_SQL" > "$WORK/plain.sql"
if [[ "$SCHEMA" == condivisa && -n "${CLAIMED_SQL:-}" ]]; then
  printf '%s\n%s\n' "$VARS" "$CLAIMED_SQL" > "$WORK/claimed.sql"
  cp "$WORK/claimed.sql" "$WORK/claimed_planner.sql"
fi
printf '%s\nBEGIN;\n%s\n%s\n%s\nROLLBACK;\n' "$VARS" "$USER_SQL" "$COUNT_SQL" "$PAGE_SQL" > "$WORK/tx.sql"
printf '\\set uid %s\n%s\n' "$VENDOR_ID" "$USER_SQL" > "$WORK/test_token.sql"

GUARD="$PYTHON $HERE/cpu_guard.py"
for v in $VARIANTS; do
  [[ -f "$WORK/$v.sql" ]] || { echo "unknown variant '$v' (plain, tx, claimed, claimed_planner, test_token)" >&2; exit 2; }
  # The planner setting condivisa's own sessions run with (libpq reads PGOPTIONS).
  options=""; [[ "$v" == claimed_planner ]] && options="-c random_page_cost=1.1"
  for _ in $(seq $(( (QUIET_WAIT + 9) / 10 ))); do (( $($GUARD busy 3) <= QUIET_MAX )) && break; sleep 7; done
  echo "== pgbench schema=$SCHEMA variant=$v: -c $CLIENTS -j $JOBS -T $PG_DURATION -M prepared${options:+ PGOPTIONS='$options'} (script below)"
  cat "$WORK/$v.sql"
  $GUARD start "$WORK/cpu.json"
  PGOPTIONS="$options" timeout $((PG_DURATION + 60)) pgbench "$PGURL" -n -M prepared -c "$CLIENTS" -j "$JOBS" -T "$PG_DURATION" -r -f "$WORK/$v.sql" \
    > "$WORK/$v.out" 2>&1 || { cat "$WORK/$v.out" >&2; echo "pgbench failed (variant $v)" >&2; exit 1; }
  grep -E 'number of (transactions|failed)|latency|tps|^ +[0-9.]+ +[0-9]+ +(SELECT|BEGIN|ROLLBACK)' "$WORK/$v.out" || true
  cpu="$($GUARD end "$WORK/cpu.json" "${PGPORT_OF_URL:-5432}" $$ | sed -E 's/server=/postgres_cpu=/; s/ (postgres|server_split)=[^ ]*//g')"
  echo "RESULT pg_ceiling schema=$SCHEMA variant=$v tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$WORK/$v.out") latency_avg_ms=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$WORK/$v.out") $cpu"
done
