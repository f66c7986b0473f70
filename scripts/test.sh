#!/usr/bin/env bash
# `make test`: set up and run every check against real PostgreSQL and Redis.
#   scripts/test.sh [pytest args...]      e.g. scripts/test.sh -k eta -x
#   make test ARGS="-k eta"
# Local PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are started when installed but
# stopped, and installed with apt-get when missing and we are root. DATABASE_URL / REDIS_URL may
# name other servers; those on another host are only checked, never started.
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
cd "$REPO_ROOT"

WAIT_SECONDS="${WAIT_SECONDS:-30}"
CALLER_DATABASE_URL="${DATABASE_URL:-}"
CALLER_REDIS_URL="${REDIS_URL:-}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dispatch}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export SECRET_KEY=test-only
export DEBUG=false
# Playwright drives the browser from an event loop; the live_server tests still use the ORM.
export DJANGO_ALLOW_ASYNC_UNSAFE="${DJANGO_ALLOW_ASYNC_UNSAFE:-true}"

# ---------------------------------------------------------------------------------------------
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" >/dev/null 2>&1; }

# "host port" of a URL (python from the venv, so any URL form parses).
url_host_port() {
    python - "$1" "$2" <<'EOF'
import sys
from urllib.parse import urlsplit

u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or sys.argv[2])
EOF
}

is_local() { [ "$1" = "127.0.0.1" ] || [ "$1" = "localhost" ]; }

wait_for() {
    # wait_for NAME CHECK-FUNCTION
    local i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        if "$2"; then return 0; fi
        sleep 1
    done
    die "$1 did not answer within ${WAIT_SECONDS}s"
}

pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1
    else
        tcp_open "$PG_HOST" "$PG_PORT"
    fi
}

redis_up() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
    else
        tcp_open "$REDIS_HOST" "$REDIS_PORT"
    fi
}

pg_cluster_version() {
    # The first PostgreSQL version with a "main" cluster, if any.
    local v
    for v in $(ls /etc/postgresql 2>/dev/null | sort -V); do
        if [ -d "/etc/postgresql/$v/main" ]; then
            echo "$v"
            return 0
        fi
    done
    return 1
}

pg_trust_localhost() {
    # A fresh Debian cluster wants a password over TCP; the tests connect as postgres without one.
    local hba="/etc/postgresql/$1/main/pg_hba.conf"
    if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
        note "pg_hba.conf: trust local TCP connections (test machine)"
        sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
}

pg_start() {
    local v
    if ! v="$(pg_cluster_version)"; then
        # Server installed but no cluster: create one (needs root).
        v="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | head -1)"
        [ -n "$v" ] && is_root || return 1
        note "pg_createcluster $v main"
        pg_createcluster "$v" main >/dev/null
        pg_trust_localhost "$v"
    fi
    note "pg_ctlcluster $v main start"
    pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
}

ensure_postgres() {
    say "PostgreSQL ($PG_HOST:$PG_PORT)"
    if ! is_local "$PG_HOST"; then
        note "DATABASE_URL points elsewhere; checking only"
        wait_for "PostgreSQL at $PG_HOST:$PG_PORT" pg_up
        return 0
    fi
    if pg_up; then
        note "running"
        return 0
    fi
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        pg_start || die "PostgreSQL is installed but could not be started; start it and retry"
    elif can_apt; then
        apt_install postgresql
        local v
        v="$(pg_cluster_version)" || die "apt installed PostgreSQL but no cluster was created"
        pg_trust_localhost "$v"
        # The package may already have started it (with the old pg_hba.conf): restart.
        pg_ctlcluster --skip-systemctl-redirect "$v" main stop >/dev/null 2>&1 || true
        pg_start || die "PostgreSQL was installed but could not be started"
    else
        die "PostgreSQL is not reachable at $PG_HOST:$PG_PORT and is not installed. Install it \
(apt-get install postgresql), start it, or set DATABASE_URL to a server the tests can use."
    fi
    wait_for "PostgreSQL" pg_up
    note "started"
}

ensure_redis() {
    say "Redis ($REDIS_HOST:$REDIS_PORT)"
    if ! is_local "$REDIS_HOST"; then
        note "REDIS_URL points elsewhere; checking only"
        wait_for "Redis at $REDIS_HOST:$REDIS_PORT" redis_up
        return 0
    fi
    if redis_up; then
        note "running"
        return 0
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        can_apt || die "Redis is not reachable at $REDIS_HOST:$REDIS_PORT and is not installed. \
Install it (apt-get install redis-server), start it, or set REDIS_URL."
        apt_install redis-server
    fi
    if ! redis_up; then
        note "redis-server --daemonize yes --port $REDIS_PORT"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
            --appendonly no >/dev/null || die "redis-server could not be started"
    fi
    wait_for "Redis" redis_up
    note "started"
}

ensure_database() {
    # The database named in DATABASE_URL exists and the role may create the test database.
    say "database ($(python -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).path.lstrip("/"))' "$DATABASE_URL"))"
    python - <<'EOF' || die "cannot use DATABASE_URL=$DATABASE_URL (see the error above)"
import os
import sys

import environ
import psycopg2
from psycopg2 import sql

cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
kw = {
    "host": cfg.get("HOST") or None,
    "port": cfg.get("PORT") or None,
    "user": cfg.get("USER") or None,
    "password": cfg.get("PASSWORD") or None,
    "connect_timeout": 5,
}
try:
    conn = psycopg2.connect(dbname="postgres", **kw)
except psycopg2.Error as exc:
    print(f"ERROR: cannot connect to PostgreSQL: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cur.fetchone()
    if not row or not row[0]:
        print("ERROR: the database role needs CREATEDB (pytest creates test_*)", file=sys.stderr)
        sys.exit(1)
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
        print(f"   created database {cfg['NAME']}")
    else:
        print("   exists")
EOF
}

ensure_chromium() {
    say "Chromium for browser tests (/usr/bin/chromium)"
    if [ -x /usr/bin/chromium ]; then
        note "present"
    elif can_apt; then
        apt_install chromium
        [ -x /usr/bin/chromium ] || die "apt installed chromium but /usr/bin/chromium is missing"
    else
        die "/usr/bin/chromium is missing. Install Debian's Chromium (apt-get install chromium) \
as root; the browser tests launch it (Playwright cannot download browsers here)."
    fi
}

validate_compose() {
    say "docker-compose config (docker-compose.yml)"
    if ! command -v docker-compose >/dev/null 2>&1; then
        if can_apt; then
            # Without --no-install-recommends this pulls in the whole Docker engine.
            apt_install --no-install-recommends docker-compose
        else
            note "skipped: docker-compose is not installed (and not root to install it)"
            return 0
        fi
    fi
    # The file refuses to start without its secrets: check it validates with them, and that it
    # refuses without SECRET_KEY (a deployment must never run on a default key).
    SECRET_KEY=compose-check POSTGRES_PASSWORD=compose-check \
        docker-compose -f docker-compose.yml config -q ||
        die "docker-compose.yml does not validate (docker-compose config -q)"
    if env -u SECRET_KEY POSTGRES_PASSWORD=compose-check \
        docker-compose -f docker-compose.yml config -q >/dev/null 2>&1; then
        die "docker-compose.yml starts without SECRET_KEY; it must refuse"
    fi
    note "valid"
}

HINT=""
step() {
    # step NAME CMD... : one line per step; stop at the first failure (with $HINT, if set).
    local name="$1" rc
    shift
    say "$name"
    if "$@"; then
        return 0
    else
        rc=$?
    fi
    printf '\nFAILED: %s (exit %s)%s\n' "$name" "$rc" "${HINT:+ - $HINT}" >&2
    exit "$rc"
}

# ---------------------------------------------------------------------------------------------
ensure_venv

read -r PG_HOST PG_PORT < <(url_host_port "$DATABASE_URL" 5432)
read -r REDIS_HOST REDIS_PORT < <(url_host_port "$REDIS_URL" 6379)
[ -n "$CALLER_DATABASE_URL" ] && note "DATABASE_URL from the environment"
[ -n "$CALLER_REDIS_URL" ] && note "REDIS_URL from the environment"

ensure_postgres
ensure_redis
ensure_database
ensure_chromium
validate_compose

HINT="'make fmt' fixes import order and formatting"
step "ruff check" ruff check --output-format concise .
step "ruff format --check" ruff format --check --output-format concise .
HINT="a model change has no migration: python manage.py makemigrations, then make fmt"
step "makemigrations --check" python manage.py makemigrations --check --dry-run
HINT=""
step "pytest${*:+ $*}" python -m pytest "$@"
say "all checks passed"
