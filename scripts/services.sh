#!/usr/bin/env bash
# Starts/stops the project-local PostGIS cluster and Redis under var/ (skipped when DATABASE_URL /
# REDIS_URL point elsewhere), and the demo's web server, Celery worker and beat.
#   scripts/services.sh start-db | stop | status | start-app
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$VAR/log" "$VAR/run"

start_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then echo "postgres: using DATABASE_URL"; return; fi
  if [ "$(id -u)" = "0" ]; then
    # The postgres user must be able to reach var/ and own its own directories.
    chmod o+x "$ROOT" "$VAR" 2>/dev/null || true
  fi
  mkdir -p "$VAR/pg" "$PG_RUN"
  [ "$(id -u)" = "0" ] && chown postgres:postgres "$VAR/pg" "$PG_RUN"
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    echo "postgres: initialising cluster in $PG_DATA"
    # trust on loopback only: a developer cluster on its own port, never exposed.
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$VAR/log/initdb.log"
    cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 4GB
checkpoint_timeout = 15min
synchronous_commit = off
max_connections = 200
CONF
  fi
  if as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    echo "postgres: running on 127.0.0.1:$PG_PORT"
  else
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/../postgres.log" -w -t 60 start >/dev/null
    echo "postgres: started on 127.0.0.1:$PG_PORT"
  fi
  # Superuser because tests create databases with the postgis/pgrouting extensions.
  as_pg "$PG_BIN/psql" -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_roles WHERE rolname='caudal'" | grep -q 1 ||
    as_pg "$PG_BIN/psql" -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres -qc \
      "CREATE ROLE caudal LOGIN SUPERUSER"
  as_pg "$PG_BIN/psql" -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='caudal'" | grep -q 1 ||
    as_pg "$PG_BIN/createdb" -h "$PG_RUN" -p "$PG_PORT" -U postgres -O caudal caudal
}

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then echo "redis: using REDIS_URL"; return; fi
  mkdir -p "$VAR/redis"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "redis: running on 127.0.0.1:$REDIS_PORT"; return
  fi
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" --daemonize yes \
    --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log" --save "" --appendonly no
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "redis: started on 127.0.0.1:$REDIS_PORT"
}

stop_pidfile() {  # name pidfile
  local pidfile="$2" pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" && echo "$1: stopped"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
}

start_app() {
  # Web (gunicorn + whitenoise), Celery worker and beat, each with a pid file for `make stop`.
  stop_app
  "$VENV/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:$WEB_PORT" --workers 3 \
    --timeout 120 --daemon --pid "$VAR/run/web.pid" \
    --access-logfile "$VAR/log/web-access.log" --error-logfile "$VAR/log/web.log"
  "$VENV/bin/celery" -A config worker --loglevel=INFO --concurrency=2 --detach \
    --pidfile="$VAR/run/celery-worker.pid" --logfile="$VAR/log/celery-worker.log" -n "caudal@%h"
  "$VENV/bin/celery" -A config beat --loglevel=INFO --detach \
    --scheduler django_celery_beat.schedulers:DatabaseScheduler \
    --pidfile="$VAR/run/celery-beat.pid" --logfile="$VAR/log/celery-beat.log"
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$WEB_PORT/healthz" 2>/dev/null && break; sleep 0.2
  done
}

stop_app() {
  stop_pidfile web "$VAR/run/web.pid"
  stop_pidfile celery-worker "$VAR/run/celery-worker.pid"
  stop_pidfile celery-beat "$VAR/run/celery-beat.pid"
}

stop_all() {
  stop_app
  if [ -f "$VAR/run/redis.pid" ]; then stop_pidfile redis "$VAR/run/redis.pid"; fi
  if [ -s "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null && echo "postgres: stopped"
  fi
}

case "${1:-}" in
  start-db) start_postgres; start_redis ;;
  start-app) start_app ;;
  stop) stop_all ;;
  stop-app) stop_app ;;
  *) echo "usage: $0 start-db|start-app|stop|stop-app" >&2; exit 2 ;;
esac
