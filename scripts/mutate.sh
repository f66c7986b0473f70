#!/usr/bin/env bash
# `make mutate`: mutation testing of dispatch/planning/ with mutmut (configured in pyproject.toml).
#   scripts/mutate.sh                   every planning module (slow)
#   scripts/mutate.sh promises ripple   only these modules' mutants
# Not part of `make test`. mutmut (and its own dependencies) is installed here on first use, not
# by requirements-dev.txt, so `make test` and its dependency audit never depend on it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
# The planning tests are pure, but tests/conftest.py loads the Django settings.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dispatch}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export SECRET_KEY=test-only DEBUG=false
names=()
for module in "$@"; do names+=("dispatch.planning.${module}.*"); done
rm -rf mutants  # a stale copy of the code would be tested instead of the current one
# The console script, not `python -m mutmut`: the mutated code imports mutmut.__main__, which
# run as __main__ would be imported a second time and fail ("context has already been set").
MUTMUT="$(dirname "$PYTHON")/mutmut"
[ -x "$MUTMUT" ] || "$PYTHON" -m pip install -q mutmut==3.8.1
"$MUTMUT" run ${names[@]+"${names[@]}"}
"$MUTMUT" results
