#!/usr/bin/env bash
# `make test-pgbouncer`: run a slice of the suite through PgBouncer in transaction mode with
# CONN_MAX_AGE=0 and DATABASE_POOLER=pgbouncer (docs/scaling.md "PgBouncer").
#   scripts/pgbouncer_check.sh [pytest args...]   default: tests/dispatch tests/security
#   make test-pgbouncer ARGS="tests/dispatch/test_views.py -x"
# Starts its own PgBouncer (apt-get installs it when missing and we are root) on
# PGBOUNCER_PORT (6433) in front of the PostgreSQL of DATABASE_URL (127.0.0.1:5432 by default),
# with a wildcard database entry so pytest's test database is reachable through it, then stops it.
# tests/pgbouncer_check.py (a move and a board read through it, plus PgBouncer's own count of
# the transactions it pooled) always runs; its name keeps it out of the ordinary suite.
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
cd "$REPO_ROOT"

DIRECT_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dispatch}"
PGBOUNCER_PORT="${PGBOUNCER_PORT:-6433}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export SECRET_KEY=test-only DEBUG=false
export DJANGO_ALLOW_ASYNC_UNSAFE="${DJANGO_ALLOW_ASYNC_UNSAFE:-true}"

if ! command -v pgbouncer >/dev/null 2>&1; then
    can_apt || die "pgbouncer is not installed (apt-get install pgbouncer, as root)"
    apt_install pgbouncer
fi
ensure_venv

# host, port, user, database of the direct URL.
read -r PG_HOST PG_PORT PG_USER PG_DB < <("$VENV_PY" - "$DIRECT_URL" <<'EOF'
import sys
from urllib.parse import urlsplit

u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres", u.path.lstrip("/"))
EOF
)
TEST_DB="test_$PG_DB"
THROUGH_URL="postgres://$PG_USER@127.0.0.1:$PGBOUNCER_PORT/$PG_DB"

RUN_DIR="$(mktemp -d /tmp/pgbouncer-check.XXXXXX)"
cat >"$RUN_DIR/pgbouncer.ini" <<EOF
[databases]
; every database, the test database included, on the real server
* = host=$PG_HOST port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
pool_mode = transaction
auth_type = trust
auth_file = $RUN_DIR/userlist.txt
admin_users = $PG_USER
stats_users = $PG_USER
max_client_conn = 200
default_pool_size = 10
logfile = $RUN_DIR/pgbouncer.log
pidfile = $RUN_DIR/pgbouncer.pid
EOF
printf '"%s" ""\n' "$PG_USER" >"$RUN_DIR/userlist.txt"
# Root may not run PgBouncer: it drops to the postgres user, who writes its log and pid here.
is_root && chown -R postgres "$RUN_DIR"

direct_sql() {
    "$VENV_PY" - "$DIRECT_URL" "$1" <<'EOF'
import sys

import environ
import psycopg2

cfg = environ.Env.db_url_config(sys.argv[1])
conn = psycopg2.connect(
    dbname="postgres",
    host=cfg["HOST"] or None,
    port=cfg["PORT"] or None,
    user=cfg["USER"] or None,
    password=cfg["PASSWORD"] or None,
)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute(sys.argv[2])
EOF
}

stop_pgbouncer() {
    if [ -f "$RUN_DIR/pgbouncer.pid" ]; then
        kill "$(cat "$RUN_DIR/pgbouncer.pid")" 2>/dev/null || true
        sleep 0.5
    fi
    # PgBouncer's pooled server connections would block DROP DATABASE; they are gone now.
    direct_sql "DROP DATABASE IF EXISTS \"$TEST_DB\" WITH (FORCE)" || true
    rm -rf "$RUN_DIR"
}
trap stop_pgbouncer EXIT

say "PgBouncer on 127.0.0.1:$PGBOUNCER_PORT (transaction mode) -> $PG_HOST:$PG_PORT"
if is_root; then
    pgbouncer -d -u postgres "$RUN_DIR/pgbouncer.ini"
else
    pgbouncer -d "$RUN_DIR/pgbouncer.ini"
fi
for _ in $(seq 1 20); do
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PGBOUNCER_PORT" 2>/dev/null && break
    sleep 0.25
done
timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PGBOUNCER_PORT" 2>/dev/null ||
    die "PgBouncer did not start: $(tail -3 "$RUN_DIR/pgbouncer.log" 2>/dev/null)"
note "$(pgbouncer --version | head -1)"

# A fresh test database, made through PgBouncer (--reuse-db: nothing drops it through
# PgBouncer at the end, where its pooled connections would block the DROP; the trap does it).
direct_sql "DROP DATABASE IF EXISTS \"$TEST_DB\" WITH (FORCE)"

if [ "$#" -eq 0 ]; then
    set -- tests/dispatch tests/security
fi
say "pytest through PgBouncer: $* tests/pgbouncer_check.py"
DATABASE_URL="$THROUGH_URL" DATABASE_CONN_MAX_AGE=0 DATABASE_POOLER=pgbouncer \
    PGBOUNCER_URL="postgres://$PG_USER@127.0.0.1:$PGBOUNCER_PORT/pgbouncer" \
    "$VENV_PY" -m pytest --reuse-db -m "not browser" "$@" tests/pgbouncer_check.py
say "all passed through PgBouncer"
