"""Writing the audit log. Every state change goes through here, and only through here.

Events are append-only (a trigger refuses UPDATE and DELETE, migration 0011) and chained per
call (dispatch/audit.py). To keep each call's chain linear when two transactions write events
for the same call, `events_append` locks the calls' rows (in id order, like the move protocol,
which already holds them on most paths, so the lock costs nothing there) and only then reads the
last hash of each chain: the second writer waits for the first to commit, then sees its event.
The cost is two statements per batch (the lock, the read of the chain heads) besides the INSERT.
A UNIQUE (call, prev_hash) constraint turns any fork that slipped past into an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Max

from dispatch.audit import GENESIS, canonical_payload, event_hash
from dispatch.models import CallEvent, ServiceCall


def jsonable(value: Any) -> Any:
    """Payloads are JSON: datetimes as ISO strings, everything else as is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def events_append(events: list[CallEvent], *, locked: Iterable[int] = ()) -> list[CallEvent]:
    """Insert unsaved events (any calls, in the order given per call) at the ends of their
    calls' chains: prev_hash and hash are filled in here. One INSERT for the batch.

    `locked`: calls whose rows the caller already holds FOR UPDATE in this transaction (a move
    locks its call first); only the others are locked here, and with none left the lock
    statement is skipped. The heads are still read in a statement of their own, after every
    lock was taken, so they are current."""
    if not events:
        return []
    call_ids = sorted({e.call_id for e in events})
    held = set(locked)
    to_lock = [pk for pk in call_ids if pk not in held]
    with transaction.atomic(savepoint=False):
        if to_lock:
            list(
                ServiceCall.objects.select_for_update()
                .filter(pk__in=to_lock)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        last_ids = (
            CallEvent.objects.filter(call_id__in=call_ids)
            .values("call_id")
            .annotate(last=Max("id"))
            .values("last")
        )
        heads = dict(CallEvent.objects.filter(id__in=last_ids).values_list("call_id", "hash"))
        for event in events:
            event.payload = canonical_payload(event.payload)
            event.prev_hash = heads.get(event.call_id, GENESIS)
            event.hash = event_hash(
                call_id=event.call_id,
                actor_id=event.actor_id,
                kind=event.kind,
                payload=event.payload,
                created_at=event.created_at,
                prev_hash=event.prev_hash,
            )
            heads[event.call_id] = event.hash
        return CallEvent.objects.bulk_create(events, batch_size=500)


def event_actor(user):
    """Who an event names: a signed-in user, or None for the system (a task, an anonymous
    request)."""
    return user if user is not None and user.is_authenticated else None


def event_record(
    *, call: ServiceCall, actor, kind: str, calls_locked: bool = False, **payload: Any
) -> CallEvent:
    actor = event_actor(actor)
    (event,) = events_append(
        [CallEvent(call=call, actor=actor, kind=kind, payload=jsonable(payload))],
        locked=(call.pk,) if calls_locked else (),
    )
    return event


def event_of(*, call: ServiceCall, actor, kind: str, **payload: Any) -> CallEvent:
    """An event not yet saved, for writers that append several in one batch (`events_append`)."""
    return CallEvent(call=call, actor=event_actor(actor), kind=kind, payload=jsonable(payload))


# The trigger of migration 0011 lets a DELETE through only while this transaction-local setting
# is on. Only the demo's wipe turns it on, and off again straight after; everything else (the
# app, an admin's psql) is refused. TRUNCATE needs no switch: row triggers do not fire on it,
# which is how the test runner's flush empties the table. Not a security boundary against a
# compromised app role (it could set the switch too): docs/operations.md describes the GRANTs
# that are.
AUDIT_WIPE_SETTING = "dispatch.audit_wipe"


def audit_wipe_allowed(allowed: bool) -> None:
    """Let this transaction delete call events (the demo wipe); PostgreSQL only, in a
    transaction (SET LOCAL lasts until it ends)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(%s, %s, true)", [AUDIT_WIPE_SETTING, "on" if allowed else "off"]
            )
