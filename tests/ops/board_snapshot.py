"""What a dispatcher would see, as JSON, from whatever database DATABASE_URL names.

`python -m tests.ops.board_snapshot YYYY-MM-DD` prints every team's board for that day as the
manager sees it (columns, cards, positions, ETAs, risk, versions), each call's status and the
head of its audit chain, and what `manage.py audit_verify` says of that database (one process
instead of two: each start of Django costs seconds). The restore drill (test_restore_drill.py)
compares the original's snapshot with the restored copy's.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date


def board_snapshot(day: date) -> dict:
    from django.contrib.auth.models import User

    from dispatch.models import CallEvent, ServiceCall
    from dispatch.selectors.board import board_get
    from technicians.models import Team

    manager = User.objects.get(username="manager")
    boards = {}
    for team in Team.objects.order_by("name"):
        board = board_get(user=manager, day=day, team=team)
        boards[team.name] = {
            "unassigned": [card_json(c) for c in board.unassigned],
            "columns": {
                col.technician.name: [card_json(c) for c in col.calls] for col in board.columns
            },
        }
    heads = dict(
        CallEvent.objects.order_by("call_id", "-id")
        .distinct("call_id")
        .values_list("call_id", "hash")
    )
    calls = {
        str(pk): [status, str(eta), str(promised), heads.get(pk)]
        for pk, status, eta, promised in ServiceCall.objects.order_by("pk").values_list(
            "pk", "status", "eta", "promised_eta"
        )
    }
    return {"boards": boards, "calls": calls, "events": CallEvent.objects.count()}


def card_json(card) -> list:
    return [
        card.id, card.summary, card.status, card.position, str(card.eta), card.slack_minutes,
        card.risk, card.version, card.escalated, sorted(card.skill_codes or ()),
    ]  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from io import StringIO

    from django.core.management import call_command

    verified = StringIO()
    call_command("audit_verify", stdout=verified)
    snapshot = board_snapshot(date.fromisoformat(sys.argv[1]))
    json.dump({**snapshot, "audit_verify": verified.getvalue()}, sys.stdout, sort_keys=True)
