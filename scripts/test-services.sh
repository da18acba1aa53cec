#!/usr/bin/env bash
# The services `make test` needs: PostgreSQL and Redis.
#
#   scripts/test-services.sh start   check URNA_TEST_POSTGRES / URNA_TEST_REDIS (defaults
#                                    below); start a throwaway instance of each one that
#                                    is unreachable, from the machine's binaries (as root,
#                                    apt-get installs missing ones); print `export` lines
#                                    for the URLs to use on stdout (messages go to stderr)
#   scripts/test-services.sh stop    stop the instances `start` started, nothing else
#
# Throwaway instances live in $URNA_TEST_SERVICES_DIR (default /tmp/urna-test-services-<uid>):
# a PostgreSQL cluster (initdb, trust auth, loopback only, fsync off) and a Redis server
# without persistence, each on a free port. Under CI=true a service that is still
# unreachable fails the script; otherwise it is reported and the tests that need it skip.
# `start` also drops test databases (urna_t_*) left behind more than a day ago, and
# makes sure the server binaries are there (the fault tests run servers of their own).
set -euo pipefail

cmd=${1:-start}
state=${URNA_TEST_SERVICES_DIR:-${TMPDIR:-/tmp}/urna-test-services-$(id -u)}
pg_url=${URNA_TEST_POSTGRES:-host=127.0.0.1 port=5432 user=postgres}
redis_url=${URNA_TEST_REDIS:-redis://127.0.0.1:6379}
failed=0

log() { echo "test-services: $*" >&2; }

is_ci() { [ "${CI:-}" = true ]; }

# The newest PostgreSQL server binaries on the machine.
pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

psql_bin() {
  if command -v psql >/dev/null 2>&1; then command -v psql
  elif dir=$(pg_bindir) && [ -x "$dir/psql" ]; then echo "$dir/psql"
  else return 1
  fi
}

pg_reachable() {
  local psql
  psql=$(psql_bin) || return 1
  PGCONNECT_TIMEOUT=3 "$psql" "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

redis_reachable() {
  local hostport=${1#redis://} host port reply
  hostport=${hostport##*@}
  hostport=${hostport%%/*}
  host=${hostport%:*}
  port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=6379
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(timeout 3 redis-cli -u "$1" ping 2>/dev/null)" = PONG ]
  else
    exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    read -r -t 3 reply <&3 || true
    exec 3>&-
    [ "${reply%$'\r'}" = +PONG ]
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local port
  for port in $(seq "$1" $(("$1" + 200))); do
    if port_free "$port"; then echo "$port"; return 0; fi
  done
  return 1
}

# Runs a command as the user that owns the throwaway instances (PostgreSQL refuses
# to run as root, so root hands the cluster to the `postgres` user).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_packages() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y "$@" >&2 || { apt-get update >&2 && apt-get install -y "$@" >&2; }
  else
    log "$* missing and not root: cannot install"
    return 1
  fi
}

drop_stale_databases() {
  local psql cutoff
  psql=$(psql_bin) || return 0
  cutoff=$(($(date +%s) - 86400))
  "$psql" "$1" -Atq -v ON_ERROR_STOP=1 -c "
    SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname)
    FROM pg_database
    WHERE datname LIKE 'urna\\_t\\_%'
      AND coalesce(substring(shobj_description(oid, 'pg_database')
                             from 'created ([0-9]+)')::bigint, 0) < $cutoff" 2>/dev/null |
    while read -r sql; do "$psql" "$1" -qc "$sql" >/dev/null 2>&1 || true; done
}

start_postgres() {
  local bindir port dir
  bindir=$(pg_bindir) || { install_packages postgresql && bindir=$(pg_bindir); } || return 1
  # Installing the package may have started the distribution's own cluster.
  if pg_reachable "$pg_url"; then return 0; fi
  port=$(free_port 55432) || return 1
  dir="$state/postgres"
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 755 "$state"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  log "starting a throwaway PostgreSQL ($bindir) on 127.0.0.1:$port in $dir"
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
    { log "initdb failed, see $dir/initdb.log"; return 1; }
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" \
    start >&2 || { log "pg_ctl start failed, see $dir/server.log"; return 1; }
  echo "$bindir" >"$dir/bindir"
  pg_url="host=127.0.0.1 port=$port user=postgres"
}

start_redis() {
  local port
  command -v redis-server >/dev/null 2>&1 || install_packages redis-server || return 1
  if redis_reachable "$redis_url"; then return 0; fi
  port=$(free_port 56379) || return 1
  mkdir -p "$state/redis"
  log "starting a throwaway Redis on 127.0.0.1:$port in $state/redis"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$state/redis" --pidfile "$state/redis/redis.pid" --logfile "$state/redis/redis.log" >&2
  for _ in $(seq 50); do
    redis_reachable "redis://127.0.0.1:$port" && break
    sleep 0.1
  done
  redis_url="redis://127.0.0.1:$port"
  echo "$redis_url" >"$state/redis/url"
}

start() {
  mkdir -p "$state"
  if pg_reachable "$pg_url"; then
    log "PostgreSQL reachable at $pg_url"
  elif [ -f "$state/postgres/bindir" ] && pg_reachable "$(cat "$state/postgres/url" 2>/dev/null)"; then
    pg_url=$(cat "$state/postgres/url")
    log "reusing the throwaway PostgreSQL at $pg_url"
  else
    log "PostgreSQL unreachable at $pg_url"
    if start_postgres && pg_reachable "$pg_url"; then
      [ -d "$state/postgres" ] && echo "$pg_url" >"$state/postgres/url"
      log "PostgreSQL ready at $pg_url"
    else
      log "PostgreSQL still unreachable"
      failed=1
    fi
  fi
  if pg_reachable "$pg_url"; then drop_stale_databases "$pg_url"; fi

  if redis_reachable "$redis_url"; then
    log "Redis reachable at $redis_url"
  elif [ -f "$state/redis/url" ] && redis_reachable "$(cat "$state/redis/url")"; then
    redis_url=$(cat "$state/redis/url")
    log "reusing the throwaway Redis at $redis_url"
  else
    log "Redis unreachable at $redis_url"
    if start_redis && redis_reachable "$redis_url"; then
      log "Redis ready at $redis_url"
    else
      log "Redis still unreachable"
      failed=1
    fi
  fi

  # The fault tests (crates/urna-cli/tests/faults.rs) also start, kill and restart
  # servers of their own, so they need the binaries even when a server is reachable.
  pg_bindir >/dev/null || install_packages postgresql || failed=1
  command -v redis-server >/dev/null 2>&1 || install_packages redis-server || failed=1

  printf 'export URNA_TEST_POSTGRES=%q\n' "$pg_url"
  printf 'export URNA_TEST_REDIS=%q\n' "$redis_url"
  if [ "$failed" = 1 ]; then
    if is_ci; then
      log "CI=true requires every service"
      exit 1
    fi
    log "SKIPPED services: the tests that need them will skip"
  fi
}

stop() {
  local dir="$state/postgres" pid
  if [ -f "$dir/bindir" ] && [ -d "$dir/data" ]; then
    log "stopping the throwaway PostgreSQL in $dir"
    as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
  fi
  if [ -f "$state/redis/redis.pid" ]; then
    pid=$(cat "$state/redis/redis.pid")
    log "stopping the throwaway Redis (pid $pid)"
    kill "$pid" 2>/dev/null || true
    rm -rf "$state/redis"
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
