# Shared helpers for scripts/*.sh. Source it; don't run it.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
VENV_PY="$VENV/bin/python"
REQ_STAMP="$VENV/.requirements.sha256"
export DEBIAN_FRONTEND=noninteractive

say() { printf '== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

is_root() { [ "$(id -u)" = "0" ]; }
can_apt() { is_root && command -v apt-get >/dev/null 2>&1; }

_APT_UPDATED=0
apt_install() {
    # apt_install PKG... : `apt-get update` once per script run, then a quiet install; apt's
    # output is shown only when it fails.
    local log
    log="$(mktemp)"
    if [ "$_APT_UPDATED" = "0" ]; then
        note "apt-get update"
        apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; die "apt-get update failed"; }
        _APT_UPDATED=1
    fi
    note "apt-get install $*"
    apt-get install -y -qq "$@" >"$log" 2>&1 ||
        { cat "$log" >&2; rm -f "$log"; die "apt-get install $* failed"; }
    rm -f "$log"
}

# A Python >= 3.11 that actually runs (pyenv shims exist for versions that are not active,
# so every candidate is executed, not just looked up).
find_python() {
    local cand
    for cand in python3.13 python3.12 python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
                >/dev/null 2>&1; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}

venv_ok() {
    [ -x "$VENV_PY" ] &&
        "$VENV_PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
            >/dev/null 2>&1
}

req_hash() {
    # Hash of both requirements files plus the venv interpreter version (a new interpreter
    # reinstalls).
    { cat "$REPO_ROOT/requirements.txt" "$REPO_ROOT/requirements-dev.txt"; "$VENV_PY" -V 2>&1; } |
        "$VENV_PY" -c \
            'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
}

ensure_venv() {
    say "python venv (.venv)"
    if ! venv_ok; then
        local py
        py="$(find_python)" || die "no Python >= 3.11 found (tried python3.13, python3.12, \
python3.11, python3). Install Python 3.11 or newer and run this again."
        note "creating .venv with $py ($("$py" -V 2>&1))"
        rm -rf "$VENV"
        if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            # Debian's system Python ships without ensurepip; python3-venv adds it.
            if can_apt && [[ "$py" == /usr/bin/* ]]; then
                local ver
                ver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
                apt_install python3-venv "python${ver}-venv"
                "$py" -m venv "$VENV" || die "could not create .venv with $py"
            else
                die "'$py -m venv' failed. Install the venv module (on Debian/Ubuntu: \
apt-get install python3-venv) and run this again."
            fi
        fi
    fi
    # A checkout is for developing: the runtime (requirements.txt) and the tests and tools
    # (requirements-dev.txt, which includes it). The image installs the runtime only.
    local f
    for f in requirements.txt requirements-dev.txt; do
        [ -f "$REPO_ROOT/$f" ] || die "$f not found in $REPO_ROOT"
    done
    local want
    want="$(req_hash)"
    if [ -f "$REQ_STAMP" ] && [ "$(cat "$REQ_STAMP")" = "$want" ]; then
        note "requirements unchanged; skipping pip install ($("$VENV_PY" -V 2>&1))"
    else
        note "pip install -r requirements-dev.txt (includes requirements.txt)"
        "$VENV_PY" -m pip install -q --disable-pip-version-check \
            -r "$REPO_ROOT/requirements-dev.txt" ||
            die "pip install -r requirements-dev.txt failed"
        printf '%s\n' "$want" >"$REQ_STAMP"
    fi
    export VIRTUAL_ENV="$VENV"
    export PATH="$VENV/bin:$PATH"
    unset PYTHONHOME
}
