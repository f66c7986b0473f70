#!/usr/bin/env bash
# `make mutate`: mutation testing with mutmut (configured in pyproject.toml).
#   scripts/mutate.sh                   every planning module (slow)
#   scripts/mutate.sh promises ripple   only these planning modules' mutants
#   TARGET=moves scripts/mutate.sh      the move (dispatch/services/moves/), against its DB tests
#   TARGET=booking | TARGET=doors       booking feasibility; the permission doors
#   TARGET=doors scripts/mutate.sh 'common.roles.x_can_escalate*'   only these mutants (by name)
# The database targets run in their own copy of the tree, .mutate/TARGET/, with the keys of
# [tool.dispatch_mutate.TARGET] in place of [tool.mutmut]'s; their tests need PostgreSQL
# (DATABASE_URL: the test database is test_<its name>, kept between mutants).
# Environment: MAX_CHILDREN (default 2 for planning, always 1 for a database target), MUTMUT (a
# mutmut console script installed elsewhere, e.g. with pip --target, then PYTHONPATH too).
# Not part of `make test`. mutmut (and its own dependencies) is installed here on first use, not
# by requirements-dev.txt, so `make test` and its dependency audit never depend on it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dispatch}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export SECRET_KEY=test-only DEBUG=false DJANGO_ALLOW_ASYNC_UNSAFE=true
TARGET="${TARGET:-planning}"
# Its own cache keys: every test drops the cached learned durations, which would empty the cache
# under a test suite running alongside on the same Redis and database name (and the reverse).
export CACHE_KEY_PREFIX="${CACHE_KEY_PREFIX:-mutate-$TARGET}"
# The console script, not `python -m mutmut`: the mutated code imports mutmut.__main__, which
# run as __main__ would be imported a second time and fail ("context has already been set").
MUTMUT="${MUTMUT:-$(dirname "$PYTHON")/mutmut}"
[ -x "$MUTMUT" ] || "$PYTHON" -m pip install -q mutmut==3.8.1

if [ "$TARGET" = planning ]; then
    # The planning tests are pure, but tests/conftest.py loads the Django settings.
    names=()
    for module in "$@"; do names+=("dispatch.planning.${module}.*"); done
    rm -rf mutants  # a stale copy of the code would be tested instead of the current one
    "$MUTMUT" run --max-children "${MAX_CHILDREN:-2}" ${names[@]+"${names[@]}"}
    "$MUTMUT" results
    exit 0
fi

WORK="$ROOT/.mutate/$TARGET"
rm -rf "$WORK"
mkdir -p "$WORK"
# The tree as it is (tracked and new files, not what git ignores), without the planning run's.
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$WORK"
"$PYTHON" - "$TARGET" "$WORK/pyproject.toml" <<'PY'
import json, re, sys, tomllib
target, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
data = tomllib.loads(text)
try:
    keys = data["tool"]["dispatch_mutate"][target]
except KeyError:
    sys.exit(f"No [tool.dispatch_mutate.{target}] in pyproject.toml: try moves, booking, doors.")
config = dict(data["tool"]["mutmut"]) | keys
config["also_copy"] = [p for p in config["also_copy"] if p not in config["source_paths"]]
config["pytest_add_cli_args"] = ["--reuse-db"]
config["process_isolation"] = "forkserver"
# Drop the planning section (and the targets' tables) and write this target's in its place.
text = re.sub(r"(?ms)^\[tool\.(mutmut|dispatch_mutate\.\w+)\]\n.*?(?=^\[|\Z)", "", text)
lines = ["[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in config.items()]
open(path, "w", encoding="utf-8").write(text + "\n" + "\n".join(lines) + "\n")
PY
cd "$WORK"
ln -s "$ROOT/.venv" .venv 2>/dev/null || true
"$MUTMUT" run --max-children 1 "$@"
"$MUTMUT" results
