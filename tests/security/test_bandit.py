"""bandit (pinned in requirements.txt, configured in pyproject.toml) finds nothing of medium or
high severity in the project code. tests/ and bench/ are left out there, with the reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BANDIT = [sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-r", ".", "-f", "json", "-q"]


def bandit(*extra: str) -> dict:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [*BANDIT, *extra], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def test_bandit_reports_no_medium_or_high_findings_in_project_code():
    report = bandit("--severity-level", "medium")
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert findings == []
    assert report["errors"] == []
    scanned = set(report["metrics"]) - {"_totals"}
    assert any(name.endswith("dispatch/services/moves/plan.py") for name in scanned)
    assert any(name.endswith("dispatch/planning/insertion.py") for name in scanned)
