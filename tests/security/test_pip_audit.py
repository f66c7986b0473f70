"""pip-audit of the pinned requirements: no known vulnerability in what requirements.txt (the
runtime) and requirements-dev.txt (tests and tooling) pin. Both files are named: pip-audit does
not follow the dev file's `-r requirements.txt`.

pip-audit asks PyPI's JSON API for each pinned version. A registry mirror that does not serve
those pages (this project's machines reach a PyPI that answers 404 for per-version JSON) makes
pip-audit print "No known vulnerabilities found" while it audited nothing. So the check counts
what was really audited:
- a known vulnerability in any audited package fails;
- packages the registry could not answer for are never reported green: the test is SKIPPED with
  the count and the reason in the summary (pytest runs with -rs), or FAILS when
  PIP_AUDIT_REQUIRED=1 (set it in a CI that reaches the real PyPI, where a silent skip would
  hide a broken audit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AUDIT = [
    sys.executable, "-m", "pip_audit", "-r", "requirements.txt", "-r", "requirements-dev.txt",
    "--no-deps", "--disable-pip",
    "--progress-spinner", "off", "--format", "json", "--timeout", "20",
]  # fmt: skip


def audit() -> dict:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        AUDIT, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    if not result.stdout.strip():
        return {"dependencies": [], "error": result.stderr.strip()[-500:]}
    return json.loads(result.stdout)


def test_the_pinned_requirements_have_no_known_vulnerabilities():
    report = audit()
    deps = report["dependencies"]
    vulnerable = [
        f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
        for d in deps
        if d.get("vulns")
    ]
    assert vulnerable == []
    unaudited = [d["name"] for d in deps if "skip_reason" in d]
    if report.get("error") or unaudited or not deps:
        reason = (
            f"pip-audit could not audit {len(unaudited)} of {len(deps)} pinned packages "
            f"(the registry did not answer: {report.get('error') or unaudited[:3]}); "
            "no vulnerability data, so no verdict"
        )
        if os.environ.get("PIP_AUDIT_REQUIRED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
