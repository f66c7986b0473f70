"""`manage.py audit_verify`: walk every call's chain of events; exit 1 naming the first broken link.

Each event must name the hash of the call's previous event and carry the hash of its own fields
(dispatch/audit.py). A clean run prints how many calls and events were checked. What it cannot
see: the newest events of a call removed together (the chain that is left is whole), so backups
(docs/operations.md) keep the reference copy.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dispatch.audit import StoredEvent, first_broken_link
from dispatch.models import CallEvent

FIELDS = ("id", "call_id", "actor_id", "kind", "payload", "created_at", "prev_hash", "hash")


def stored_events():
    rows = CallEvent.objects.order_by("call_id", "id").values_list(*FIELDS)
    for row in rows.iterator(chunk_size=5000):
        yield StoredEvent(*row)


class Command(BaseCommand):
    help = "Check the hash chain of every call's events; exit 1 naming the first broken link."

    def handle(self, *args, **options):
        counted = {"events": 0, "calls": set()}

        def counting():
            for event in stored_events():
                counted["events"] += 1
                counted["calls"].add(event.call_id)
                yield event

        broken = first_broken_link(counting())
        if broken is not None:
            raise CommandError(f"audit trail broken at {broken}")
        self.stdout.write(
            self.style.SUCCESS(
                f"audit trail intact: {counted['events']} events of "
                f"{len(counted['calls'])} calls checked"
            )
        )
