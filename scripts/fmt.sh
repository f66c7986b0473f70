#!/usr/bin/env bash
# `make fmt`: apply ruff's safe fixes (imports and the like) and format the code.
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
cd "$REPO_ROOT"
ensure_venv
say "ruff check --fix"
ruff check --fix . || true
say "ruff format"
ruff format .
