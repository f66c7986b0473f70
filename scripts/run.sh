#!/usr/bin/env bash
# `make run`: set up and run the dispatch board with demo data on a machine with Python alone.
# With DATABASE_URL / REDIS_URL unset it uses SQLite and runs background work in-process;
# when they are set (environment or .env) they are used.
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
cd "$REPO_ROOT"

ensure_venv

export DEBUG="${DEBUG:-true}"
PORT="${PORT:-8000}"

say "migrate"
python manage.py migrate --noinput
# The demo is alive at any hour: outside 09:00-15:00 the product's clock is shifted so the demo
# company is at 10:30 of today (docs/demo.md). Set DEMO_CLOCK_OFFSET_MINUTES=0 for real time.
if [ -z "${DEMO_CLOCK_OFFSET_MINUTES+set}" ]; then
    DEMO_CLOCK_OFFSET_MINUTES="$(python manage.py demo_clock)"
fi
export DEMO_CLOCK_OFFSET_MINUTES
say "demo clock offset: ${DEMO_CLOCK_OFFSET_MINUTES} min"
say "seed_demo --seed 1 (wipes and reseeds the demo data)"
python manage.py seed_demo --seed 1

cat <<EOF

  Dispatch board:  http://127.0.0.1:${PORT}/
  Admin:           http://127.0.0.1:${PORT}/admin/
  API:             http://127.0.0.1:${PORT}/api/v1/
  API docs:        http://127.0.0.1:${PORT}/api/docs/

  Demo logins (password for all: demo-pass-2026)
    manager      manager role
    dispatcher   dispatcher role
    csr          customer service rep (books calls)
    tech1        a technician (sees own calls)

  Database: ${DATABASE_URL:-SQLite (db.sqlite3)}   Background work: ${REDIS_URL:+Celery on $REDIS_URL}${REDIS_URL:-in-process}
  Stop with Ctrl+C.

EOF
if [ -z "${REDIS_URL:-}" ]; then
    # No Celery here: a small loop does the beat's minute-by-minute recompute instead.
    python manage.py recompute_etas --every 60 >/dev/null &
    RECOMPUTE_PID=$!
    trap 'kill $RECOMPUTE_PID 2>/dev/null || true' EXIT INT TERM
fi
# uvicorn (ASGI): the board's live stream (/board/events/) is an async view; the pages are
# Django's as ever (DEBUG serves static files through WhiteNoise's finders). On SQLite the stream
# answers 204 and the boards poll (docs/board.md, "Live updates").
python -m uvicorn config.asgi:application --host 127.0.0.1 --port "${PORT}" --lifespan off
