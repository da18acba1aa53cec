#!/usr/bin/env bash
# `make loadtest`: a short standard scenario of urna-loadtest (release build) against
#   1. `urna dev` on the embedded store, with the reference ballot's election
#      (loadtest/reference.yaml) and a roll of cheap-hash voting codes; then,
#   2. when PostgreSQL and Redis are reachable (URNA_TEST_POSTGRES, URNA_TEST_REDIS;
#      default 127.0.0.1), `urna serve all` plus a second `urna serve casting` process
#      on a throwaway database, the election set up with `urna admin` and three
#      `urna trustee` processes, both casting endpoints driven round-robin.
#   On each store it then drives auth (login + blind-signed credential, on voters the
#   cast run did not use) at AUTH_RATE, and on the embedded store the board's public
#   reads at READ_RATE, each for a 2 s ramp and a 5 s hold.
# Each prints urna-loadtest's report, then the servers' cost of the timed run (CPU of
# urna, PostgreSQL and Redis per successful request, which in milliseconds is also the
# cores needed per 1,000 requests/s; PostgreSQL transactions and WAL bytes, Redis
# commands per request), snapshotted by urna-loadtest's --before-run and --after-run
# hooks so the preparation is not counted. The JSON reports and the cost summaries
# (NAME-costs.txt) are kept in $LOADTEST_OUT.
#
# Knobs (environment): RATE (ballots/s in the hold, default 300), RAMP_SECS (5),
# HOLD_SECS (20), PG_RATE (default RATE), AUTH_RATE (100), READ_RATE (500),
# LOADTEST_ARGS (extra urna-loadtest flags), LOADTEST_OUT (default a new temporary
# directory), ONLY (embedded | postgres), REVOTING (once | last-counts: the election's
# re-voting rule, default the reference file's last-counts; the casting replicas' Redis
# nullifier gate runs only under once).
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
RATE=${RATE:-300}
RAMP_SECS=${RAMP_SECS:-5}
HOLD_SECS=${HOLD_SECS:-20}
PG_RATE=${PG_RATE:-$RATE}
AUTH_RATE=${AUTH_RATE:-100}
READ_RATE=${READ_RATE:-500}
ONLY=${ONLY:-}
PG_URL=${URNA_TEST_POSTGRES:-host=127.0.0.1 port=5432 user=postgres}
REDIS_URL=${URNA_TEST_REDIS:-redis://127.0.0.1:6379}
REVOTING=${REVOTING:-}
read -r -a EXTRA <<<"${LOADTEST_ARGS:-}"

log() { echo "loadtest: $*" >&2; }

# Voters a scenario casts: the ramp's rate*ramp/2 plus the hold's rate*hold, and a margin.
voters_for() { awk -v r="$1" -v a="$RAMP_SECS" -v h="$HOLD_SECS" 'BEGIN { printf "%d", r*a/2 + r*h + 10 }'; }

clock_ticks=$(getconf CLK_TCK)

# CPU time, in clock ticks, of the given processes and of their exited children (so a
# PostgreSQL backend that ends during the run still counts, through the postmaster).
cpu_ticks() {
  local total=0 pid f
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    read -r -a f < <(sed 's/^.*) //' "/proc/$pid/stat") || continue
    total=$((total + f[11] + f[12] + f[13] + f[14]))
  done
  echo "$total"
}

transactions() { # db
  psql "$PG_URL" -Atqc "SELECT 'transactions ' || xact_commit FROM pg_stat_database WHERE datname = '$1'"
}

# `run.sh snapshot FILE DB PID...` (urna-loadtest's hooks call it): the counters the
# cost summary subtracts. DB is the PostgreSQL database, or "-" on the embedded store.
snapshot() {
  local file=$1 database=$2
  shift 2
  {
    echo "urna $(cpu_ticks "$@")"
    if [ "$database" != - ]; then
      echo "postgres $(cpu_ticks $(pgrep -x postgres))"
      echo "redis $(cpu_ticks $(pgrep -x redis-server))"
      transactions "$database"
      psql "$PG_URL" -Atqc "SELECT 'wal ' || pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
      redis-cli -u "$REDIS_URL" info stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print "commands", $2 }'
    fi
  } >"$file"
}

if [ "${1:-}" = snapshot ]; then
  shift
  snapshot "$@"
  exit 0
fi

# The hook arguments for urna-loadtest that snapshot around the timed run of NAME.
hooks() { # name db pid...
  local name=$1 database=$2
  shift 2
  printf -- '--before-run\n%q snapshot %q %q %s\n--after-run\n%q snapshot %q %q %s\n' \
    "$self" "$out/$name.before" "$database" "$*" "$self" "$out/$name.after" "$database" "$*"
}

# Prints and keeps the cost of NAME's timed run: the snapshots' differences per
# successful request (the report's ramp and hold "ok" counts).
costs() { # name
  local name=$1 requests
  requests=$(grep -o '"ok": [0-9]*' "$out/$name.json" | awk '{ s += $2 } END { print s + 0 }')
  if [ -n "$db" ]; then
    # A backend reports its transaction counts when idle, up to 10 s late: count them
    # again once they are in (CPU, WAL and Redis figures stay those of the run's end).
    sleep 11
    sed -i '/^transactions /d' "$out/$name.after"
    transactions "$db" >>"$out/$name.after"
  fi
  awk -v n="$requests" -v clk="$clock_ticks" -v name="$name" '
    FNR == NR { before[$1] = $2; next }
    { delta[$1] = $2 - before[$1] }
    END {
      printf "  costs       %s: %d successful requests in the ramp and hold\n", name, n
      if (n == 0) exit
      split("urna postgres redis", who, " ")
      for (i = 1; i <= 3; i++) if (who[i] in delta)
        printf "  %-11s %.3f ms CPU per request (= cores per 1,000 requests/s)\n", who[i], delta[who[i]] / clk * 1000 / n
      if ("transactions" in delta) printf "  postgres    %.2f transactions and %.1f KiB of WAL per request\n", delta["transactions"] / n, delta["wal"] / 1024 / n
      if ("commands" in delta) printf "  redis       %.2f commands per request\n", delta["commands"] / n
    }' "$out/$name.before" "$out/$name.after" | tee "$out/$name-costs.txt"
}

$CARGO build --release --locked -p urna-cli -p urna-loadtest
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d "${TMPDIR:-/tmp}/urna-loadtest-XXXXXX")
out=${LOADTEST_OUT:-$work}
mkdir -p "$out"
pids=()
db=
manifest=loadtest/reference.yaml
if [ -n "$REVOTING" ]; then
  manifest="$work/reference.yaml"
  sed "s/^revoting: .*/revoting: $REVOTING/" loadtest/reference.yaml >"$manifest"
fi

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$db" ]; then
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work/dev" "$work/pg"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A base port whose next 100 ports are free.
free_base() {
  local base p ok
  for _ in $(seq 50); do
    base=$((20000 + RANDOM % 400 * 100))
    ok=1
    for p in $(seq $((base + 1)) $((base + 90))); do port_free "$p" || { ok=0; break; }; done
    [ "$ok" = 1 ] && { echo "$base"; return 0; }
  done
  return 1
}

wait_port() { # port pid log
  for _ in $(seq 600); do
    port_free "$1" || return 0
    kill -0 "$2" 2>/dev/null || { log "process exited: $(tail -n 20 "$3")"; return 1; }
    sleep 0.1
  done
  log "port $1 never opened: $(tail -n 20 "$3")"
  return 1
}

embedded() {
  local voters cast_voters dir
  cast_voters=$(voters_for "$RATE")
  voters=$((cast_voters + AUTH_RATE * 6 + 10))
  dir="$work/dev"
  log "embedded: urna dev with $voters voters (cheap code hashes)"
  "$bin/urna" dev --data "$dir" --manifest "$manifest" --voters "$voters" \
    --insecure-plaintext --port-base "$(free_base)" --weak-voting-code-hashes \
    >"$work/dev.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1200); do
    grep -qs '"state": "open"' "$dir/dev.json" && break
    kill -0 "${pids[-1]}" 2>/dev/null || { log "urna dev exited: $(tail -n 20 "$work/dev.log")"; return 1; }
    sleep 0.25
  done
  grep -qs '"state": "open"' "$dir/dev.json" || { log "urna dev never opened"; return 1; }
  local hook
  mapfile -t hook < <(hooks embedded - "${pids[-1]}")
  "$bin/urna-loadtest" --dev "$dir/dev.json" --rate "$RATE" --ramp-secs "$RAMP_SECS" \
    --hold-secs "$HOLD_SECS" --json "$out/embedded.json" "${hook[@]}" "${EXTRA[@]}"
  costs embedded
  log "embedded: auth (login + credential) at $AUTH_RATE/s"
  mapfile -t hook < <(hooks embedded-auth - "${pids[-1]}")
  "$bin/urna-loadtest" --dev "$dir/dev.json" --scenario auth --skip-voters "$cast_voters" \
    --rate "$AUTH_RATE" --ramp-secs 2 --hold-secs 5 --json "$out/embedded-auth.json" \
    "${hook[@]}" "${EXTRA[@]}"
  costs embedded-auth
  log "embedded: board reads at $READ_RATE/s"
  mapfile -t hook < <(hooks embedded-read - "${pids[-1]}")
  "$bin/urna-loadtest" --dev "$dir/dev.json" --scenario read \
    --rate "$READ_RATE" --ramp-secs 2 --hold-secs 5 --json "$out/embedded-read.json" \
    "${hook[@]}" "${EXTRA[@]}"
  costs embedded-read
  kill "${pids[-1]}"
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
}

pg_reachable() { PGCONNECT_TIMEOUT=3 psql "$PG_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; }
redis_reachable() { [ "$(timeout 3 redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ]; }

# One `urna serve ROLE` process with the common configuration and listeners at BASE.
serve() { # name role base
  local base=$3 dir="$work/pg"
  {
    cat "$dir/common.yaml"
    echo "listen:"
    local i=1 s
    for s in auth issuance casting board admin tally; do
      echo "  $s: 127.0.0.1:$((base + i))"
      i=$((i + 1))
    done
    echo "  http: 127.0.0.1:$((base + 80))"
    echo "  ops: 127.0.0.1:$((base + 90))"
  } >"$dir/$1.yaml"
  RUST_LOG=${RUST_LOG:-warn} "$bin/urna" serve "$2" --insecure-plaintext --config "$dir/$1.yaml" \
    >"$dir/$1.log" 2>&1 &
  pids+=($!)
  wait_port $((base + 3)) "${pids[-1]}" "$dir/$1.log"
}

postgres() {
  local voters cast_voters dir first second conn election n
  if ! pg_reachable || ! redis_reachable; then
    log "PostgreSQL ($PG_URL) or Redis ($REDIS_URL) unreachable: skipping the replicas run"
    return 0
  fi
  cast_voters=$(voters_for "$PG_RATE")
  voters=$((cast_voters + AUTH_RATE * 6 + 10))
  dir="$work/pg"
  mkdir -p "$dir"
  db="urna_loadtest_$$"
  psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
  election="loadtest-reference"
  printf 'a-loadtest-admin-token-of-enough-length\n' >"$dir/admin-token"
  printf '%s\n' "$(printf '5a%.0s' $(seq 32))" >"$dir/session-key"
  printf 'a trustee passphrase for the load test\n' >"$dir/passphrase"
  cat >"$dir/common.yaml" <<EOF
store:
  backend: postgres
  url: "$PG_URL dbname=$db"
  pool: 16
redis:
  url: "$REDIS_URL"
  prefix: "$db"
  ttl_secs: 3600
session_key_file: "$dir/session-key"
admin_token_file: "$dir/admin-token"
login_limits:
  address_attempts: 10000000
voting_codes: { memory_kib: 64, iterations: 1, lanes: 1 }
EOF
  first=$(free_base)
  log "postgres: urna serve all on database $db, listeners at $first+"
  serve first all "$first"
  wait_port $((first + 80)) "${pids[-1]}" "$dir/first.log"
  conn="$dir/connection.json"
  cat >"$conn" <<EOF
{"admin": "http://127.0.0.1:$((first + 5))", "tally": "http://127.0.0.1:$((first + 6))",
 "board": "http://127.0.0.1:$((first + 4))", "admin_token_file": "$dir/admin-token",
 "election": "$election"}
EOF
  "$bin/urna" admin --dev "$conn" create "$manifest" >/dev/null
  for n in 1 2 3; do
    "$bin/urna" trustee init --file "$dir/trustee-$n.json" --passphrase-file "$dir/passphrase" \
      --dev "$conn" --name "trustee $n" --kdf-memory-kib 64 >/dev/null
    "$bin/urna" trustee register --file "$dir/trustee-$n.json" --passphrase-file "$dir/passphrase" \
      --dev "$conn" --index "$n" >/dev/null
  done
  local ceremonies=()
  for n in 1 2 3; do
    "$bin/urna" trustee ceremony --file "$dir/trustee-$n.json" --passphrase-file "$dir/passphrase" \
      --dev "$conn" --timeout 60 >"$dir/ceremony-$n.log" 2>&1 &
    ceremonies+=($!)
  done
  for n in "${ceremonies[@]}"; do wait "$n"; done
  awk -v n="$voters" 'BEGIN { print "voter_id,ballot_style"; for (i = 1; i <= n; i++) printf "v%07d,everyone\n", i }' \
    >"$dir/roll.csv"
  log "postgres: importing $voters voters"
  "$bin/urna" admin --dev "$conn" import-roll "$election" "$dir/roll.csv" \
    --codes-out "$dir/codes.csv" >/dev/null
  "$bin/urna" admin --dev "$conn" open --test "$election" >/dev/null
  "$bin/urna" admin --dev "$conn" open "$election" >/dev/null
  second=$(free_base)
  log "postgres: a second urna serve casting, listeners at $second+"
  serve second casting "$second"
  local hook
  mapfile -t hook < <(hooks postgres "$db" "${pids[@]}")
  "$bin/urna-loadtest" --election "$election" --codes "$dir/codes.csv" \
    --auth "http://127.0.0.1:$((first + 1))" --issuance "http://127.0.0.1:$((first + 2))" \
    --board "http://127.0.0.1:$((first + 4))" \
    --casting "http://127.0.0.1:$((first + 3))" --casting "http://127.0.0.1:$((second + 3))" \
    --rate "$PG_RATE" --ramp-secs "$RAMP_SECS" --hold-secs "$HOLD_SECS" \
    --json "$out/postgres.json" "${hook[@]}" "${EXTRA[@]}"
  costs postgres
  log "postgres: auth (login + credential) at $AUTH_RATE/s"
  mapfile -t hook < <(hooks postgres-auth "$db" "${pids[@]}")
  "$bin/urna-loadtest" --election "$election" --codes "$dir/codes.csv" \
    --auth "http://127.0.0.1:$((first + 1))" --issuance "http://127.0.0.1:$((first + 2))" \
    --board "http://127.0.0.1:$((first + 4))" --casting "http://127.0.0.1:$((first + 3))" \
    --scenario auth --skip-voters "$cast_voters" --rate "$AUTH_RATE" --ramp-secs 2 --hold-secs 5 \
    --json "$out/postgres-auth.json" "${hook[@]}" "${EXTRA[@]}"
  costs postgres-auth
}

[ "$ONLY" = postgres ] || embedded
[ "$ONLY" = embedded ] || postgres
log "JSON reports in $out"
