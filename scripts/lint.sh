#!/usr/bin/env bash
# `make lint`: ruff lint and format check (no services needed).
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
cd "$REPO_ROOT"
ensure_venv
say "ruff check"
ruff check .
say "ruff format --check"
ruff format --check .
