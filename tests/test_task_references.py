"""Tasks travel as imported objects: the beat names registered tasks, and no code sends a task by
a string a rename would leave behind (issue 19)."""

from __future__ import annotations

import re
from pathlib import Path

from config.celery import app

REPO = Path(__file__).resolve().parents[1]
TASK_STRING = re.compile(r"""['"](?:dispatch|customers|technicians|accounts)\.tasks\.\w+['"]""")


def test_every_beat_entry_names_a_registered_task():
    app.finalize()  # as beat does before it reads the schedule
    schedule = app.conf.beat_schedule
    assert {"recompute-today", "check-escalations", "check-backlog", "customer-messages"} <= set(
        schedule
    )
    unknown = {key: e["task"] for key, e in schedule.items() if e["task"] not in app.tasks}
    assert unknown == {}


def test_no_task_is_named_by_a_string_in_the_code():
    found = []
    for folder in ("accounts", "common", "config", "customers", "dispatch", "technicians"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            found += [f"{path.relative_to(REPO)}: {m}" for m in TASK_STRING.findall(text)]
            if "import_module(" in text:
                found.append(f"{path.relative_to(REPO)}: import_module")
    assert found == []
