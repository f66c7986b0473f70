"""The audit trail's hash chain: how an event is fingerprinted and how a call's chain is checked.

Each call's events form a chain in id order: an event stores the hash of the call's previous
event (`prev_hash`, "" for the first) and its own `hash`, a sha256 over a canonical JSON of its
fields and `prev_hash`. Editing any stored field, deleting an event or inserting one between two
others breaks the chain at that event or the next. Pure functions: the writer
(dispatch/services/events.py), the migration that backfilled old rows and `manage.py
audit_verify` share them, so the three can never disagree on the format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = ""  # the prev_hash of a call's first event


def canonical_payload(payload: Any) -> Any:
    """The payload as the database will give it back (JSON types only, string keys)."""
    return json.loads(json.dumps(payload))


def event_hash(
    *,
    call_id: int,
    actor_id: int | None,
    kind: str,
    payload: Any,
    created_at: datetime,
    prev_hash: str,
) -> str:
    """sha256 over sorted-key, whitespace-free JSON; the time in UTC to the microsecond (what
    PostgreSQL's timestamptz keeps), so a round trip through the database hashes the same."""
    body = {
        "call": call_id,
        "actor": actor_id,
        "kind": kind,
        "payload": payload,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    id: int
    call_id: int
    actor_id: int | None
    kind: str
    payload: Any
    created_at: datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class BrokenLink:
    call_id: int
    event_id: int
    problem: str

    def __str__(self) -> str:
        return f"call {self.call_id}, event {self.event_id}: {self.problem}"


def first_broken_link(events: Iterable[StoredEvent]) -> BrokenLink | None:
    """Walk events ordered by (call_id, id); the first event whose links do not hold, or None."""
    call_id, previous = None, None
    for event in events:
        if event.call_id != call_id:
            call_id, previous = event.call_id, None
        expected_prev = previous.hash if previous is not None else GENESIS
        if event.prev_hash != expected_prev:
            after = f"event {previous.id}" if previous is not None else "the start of the chain"
            return BrokenLink(
                event.call_id,
                event.id,
                f"prev_hash {event.prev_hash or '(empty)'} does not match {after} "
                f"({expected_prev or 'empty'}): an event was removed, added or reordered",
            )
        computed = event_hash(
            call_id=event.call_id,
            actor_id=event.actor_id,
            kind=event.kind,
            payload=event.payload,
            created_at=event.created_at,
            prev_hash=event.prev_hash,
        )
        if event.hash != computed:
            return BrokenLink(
                event.call_id,
                event.id,
                f"stored hash {event.hash or '(empty)'} does not match its fields ({computed}): "
                "the event was edited",
            )
        previous = event
    return None
