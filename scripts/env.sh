# Shared variables for the project's scripts. Sourced, never executed.
# Everything a running Caudal needs lives under var/ unless DATABASE_URL / REDIS_URL point elsewhere.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DATA="$VAR/pg/data"
PG_RUN="$VAR/run/pg"
PG_PORT="${CAUDAL_PG_PORT:-55432}"
REDIS_PORT="${CAUDAL_REDIS_PORT:-56379}"
WEB_PORT="${CAUDAL_PORT:-8000}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export CAUDAL_LOCAL_DATABASE_URL="postgis://caudal@127.0.0.1:$PG_PORT/caudal"
export CAUDAL_LOCAL_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

# PostgreSQL refuses to run as root: as root we run it as the `postgres` system user.
as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# apt needs root; use sudo when we are a normal user that has it.
as_root() {
  if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi
}
