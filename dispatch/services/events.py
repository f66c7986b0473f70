"""Writing the audit log. Every state change goes through here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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


def event_record(*, call: ServiceCall, actor, kind: str, **payload: Any) -> CallEvent:
    actor = actor if actor is not None and actor.is_authenticated else None
    return CallEvent.objects.create(call=call, actor=actor, kind=kind, payload=jsonable(payload))


def event_of(*, call: ServiceCall, actor, kind: str, **payload: Any) -> CallEvent:
    """An event not yet saved, for writers that insert several in one statement."""
    actor = actor if actor is not None and actor.is_authenticated else None
    return CallEvent(call=call, actor=actor, kind=kind, payload=jsonable(payload))
