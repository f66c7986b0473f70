"""The planning core is pure: plain data in, plain data out, nothing from Django or the clock."""

from __future__ import annotations

import ast
from pathlib import Path

PLANNING = Path(__file__).resolve().parents[2] / "dispatch" / "planning"
FORBIDDEN = ("django", "config", "common", "rest_framework", "celery", "customers", "technicians")
# Inside the project only the planning package itself may be imported from here.
PROJECT_OUTSIDE = ("dispatch.",)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def test_the_planning_package_imports_no_django_settings_clock_or_other_project_code():
    modules = sorted(PLANNING.glob("*.py"))
    assert len(modules) >= 10  # the scan really looks at the package
    offenders = []
    for path in modules:
        for name in _imports(path):
            top = name.split(".")[0]
            outside = name.startswith(PROJECT_OUTSIDE) and not name.startswith("dispatch.planning")
            if top in FORBIDDEN or outside or name in ("time", "datetime") or name.startswith("."):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_the_scan_would_catch_a_django_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from django.conf import settings\nimport dispatch.models\n")
    assert _imports(bad) == ["django.conf", "dispatch.models"]
