"""The production image carries the runtime only: no test runner, browser driver, fuzzer or
linter an intruder could use, nothing the app does not run (issue 19).

requirements.txt is the runtime and what the Dockerfile installs; requirements-dev.txt adds the
tests and tools on top (`-r requirements.txt`), for checkouts (scripts/_lib.sh ensure_venv).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_TOOLS = {
    "pytest", "pytest-django", "pytest-playwright", "playwright", "schemathesis", "hypothesis",
    "factory-boy", "bandit", "ruff", "pip-audit", "mutmut", "coverage",
}  # fmt: skip


def pinned(name: str) -> dict[str, str]:
    """Package name (normalised) -> the whole line, for every requirement line of a file."""
    lines = (REPO / name).read_text().splitlines()
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found[re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0].lower().replace("_", "-")] = line
    return found


def test_the_runtime_requirements_list_no_test_tool():
    assert pinned("requirements.txt")
    assert set(pinned("requirements.txt")) & TEST_TOOLS == set()


def test_the_dev_requirements_add_the_tools_on_top_of_the_runtime():
    dev = pinned("requirements-dev.txt")
    assert "-r requirements.txt" in (REPO / "requirements-dev.txt").read_text().splitlines()
    assert {"pytest", "playwright", "schemathesis", "bandit"} <= set(dev)
    assert set(dev) & set(pinned("requirements.txt")) == set()  # one pin per package


def test_the_dockerfile_installs_the_runtime_requirements_only():
    # The instructions, not the comments (which may well name the dev file).
    dockerfile = "\n".join(
        line
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")
    )
    installs = [
        line for line in dockerfile.splitlines() if re.search(r"\bpip3?\b.*\binstall\b", line)
    ]
    assert installs == ["RUN pip install -r requirements.txt"]
    assert "requirements-dev" not in dockerfile
    mentioned = {tool for tool in TEST_TOOLS if re.search(rf"\b{re.escape(tool)}\b", dockerfile)}
    assert mentioned == set()


def test_a_checkout_installs_the_dev_requirements():
    # make test / make run on a fresh clone still get pytest, playwright and the rest.
    lib = (REPO / "scripts" / "_lib.sh").read_text()
    assert '-r "$REPO_ROOT/requirements-dev.txt"' in lib
