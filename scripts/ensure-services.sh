#!/usr/bin/env bash
# Make sure the local PostgreSQL and Redis the tests use are up, starting them when they are not.
#
# stdout: shell assignments for `eval` (which services the tests may use); messages go to stderr.
#   HARAMBEE_PG_URL      SQLAlchemy URL of the PostgreSQL test database, empty when unavailable
#   HARAMBEE_REDIS_URL   Redis URL for tests (database 15), empty when unavailable
# Under CI=true a missing service is an error (exit 1); elsewhere it is a loud SKIPPED banner and
# the Makefile skips the PostgreSQL run, and tests that need Redis skip themselves.
set -uo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
PG_DB=${HARAMBEE_PG_DB:-test}
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
WAIT_SECONDS=${HARAMBEE_SERVICE_WAIT:-20}

say() { printf '%s\n' "$*" >&2; }

banner() {
  say ""
  say "################################################################################"
  say "#  $*"
  say "################################################################################"
  say ""
}

wait_for() {  # wait_for <command...>: true once the command succeeds, false after WAIT_SECONDS
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.5
  done
}

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 || { say "pg_ctlcluster not found"; return 1; }
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  [ -n "$version" ] || { say "no cluster under /etc/postgresql"; return 1; }
  say "starting PostgreSQL $version/main ..."
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  wait_for pg_up
}

start_redis() {
  command -v redis-server >/dev/null 2>&1 || { say "redis-server not found"; return 1; }
  say "starting Redis on $REDIS_HOST:$REDIS_PORT ..."
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no >&2 || true
  wait_for redis_up
}

pg_role() {  # the first role that trust authentication lets into the test database (or its server)
  local role db
  for role in postgres root; do
    for db in "$PG_DB" postgres; do
      if psql -h "$PG_HOST" -p "$PG_PORT" -U "$role" -d "$db" -Atqc 'select 1' >/dev/null 2>&1; then
        echo "$role $db"
        return 0
      fi
    done
  done
  return 1
}

missing=()

pg_url=""
if ! command -v pg_isready >/dev/null 2>&1; then
  say "PostgreSQL client tools not installed"
elif pg_up || start_postgres; then
  if found=$(pg_role); then
    role=${found% *}
    reached=${found#* }
    if [ "$reached" != "$PG_DB" ]; then
      say "creating database $PG_DB as $role"
      createdb -h "$PG_HOST" -p "$PG_PORT" -U "$role" "$PG_DB" >&2 || true
    fi
    if psql -h "$PG_HOST" -p "$PG_PORT" -U "$role" -d "$PG_DB" -Atqc 'select 1' >/dev/null 2>&1; then
      pg_url="postgresql+psycopg://$role@$PG_HOST:$PG_PORT/$PG_DB"
    else
      say "cannot reach database $PG_DB as $role"
    fi
  else
    say "PostgreSQL is up but neither role postgres nor root gets in with trust authentication"
  fi
fi
[ -n "$pg_url" ] || missing+=("PostgreSQL")

redis_url=""
if redis_up || start_redis; then
  redis_url="redis://$REDIS_HOST:$REDIS_PORT/15"
else
  missing+=("Redis")
fi

if ((${#missing[@]})); then
  if [ "${CI:-}" = true ]; then
    banner "ERROR: ${missing[*]} unavailable on $PG_HOST; CI=true requires every service"
    exit 1
  fi
  [ -n "$pg_url" ] || banner "SKIPPED: PostgreSQL run — no PostgreSQL on $PG_HOST:$PG_PORT (only SQLite is tested)"
  [ -n "$redis_url" ] || banner "SKIPPED: Redis tests — no Redis on $REDIS_HOST:$REDIS_PORT (tests that need it skip)"
fi

printf 'export HARAMBEE_PG_URL=%q\n' "$pg_url"
printf 'export HARAMBEE_REDIS_URL=%q\n' "$redis_url"
