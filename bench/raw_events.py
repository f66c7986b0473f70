"""The audit event a raw baseline writes, as the product writes it: at the end of the call's hash
chain (the head read under the call's lock, the hash computed, one INSERT). A baseline that
skipped the chain would be refused by the database (prev_hash and hash are NOT NULL) and would
measure less work than the product must do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dispatch.audit import GENESIS, event_hash


def raw_event_insert(cur, *, call_id: int, actor_id: int | None, kind: str, payload: Any) -> None:
    payload = json.loads(payload) if isinstance(payload, str) else payload
    cur.execute(
        "SELECT hash FROM dispatch_callevent WHERE call_id = %s ORDER BY id DESC LIMIT 1",
        [call_id],
    )
    head = cur.fetchone()
    prev = head[0] if head else GENESIS
    at = datetime.now(UTC)
    digest = event_hash(
        call_id=call_id,
        actor_id=actor_id,
        kind=kind,
        payload=payload,
        created_at=at,
        prev_hash=prev,
    )
    cur.execute(
        "INSERT INTO dispatch_callevent (call_id, actor_id, kind, payload, created_at, prev_hash, "
        "hash) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [call_id, actor_id, kind, json.dumps(payload), at, prev, digest],
    )
