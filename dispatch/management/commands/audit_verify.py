"""`manage.py audit_verify`: walk every call's chain of events; exit 1 naming the first broken link.

Each event must name the hash of the call's previous event and carry the hash of its own fields
(dispatch/audit.py). A clean run prints how many calls and events were checked. What it cannot
see: the newest events of a call removed together (the chain that is left is whole), so backups
(docs/operations.md) keep the reference copy.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dispatch.audit import StoredEvent, first_broken_link
from dispatch.models import CallEvent, ServiceCall

FIELDS = ("id", "call_id", "actor_id", "kind", "payload", "created_at", "prev_hash", "hash")


CALLS_PER_BATCH = 500


def stored_events():
    """Every event in (call, id) order, a batch of calls at a time (each call's chain read in one
    query): memory stays bounded without a server-side cursor, which PgBouncer in transaction
    mode cannot keep between transactions (DATABASE_POOLER, docs/scaling.md)."""
    last = 0
    while True:
        calls = ServiceCall.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)
        batch = list(calls[:CALLS_PER_BATCH])
        if not batch:
            return
        rows = CallEvent.objects.filter(call_id__in=batch).order_by("call_id", "id")
        for row in rows.values_list(*FIELDS):
            yield StoredEvent(*row)
        last = batch[-1]


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
