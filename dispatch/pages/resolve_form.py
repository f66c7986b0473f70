"""The manager's resolve form: reading what was typed, and keeping it when it is refused.

A refusal redirects back to the escalation (the page the manager was on) with the error; what
was typed travels in the session for that one next view of the page, so nothing typed is lost:
the strategy, the note, the message, the move, the goodwill and the new time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from common.errors import InvalidInput
from dispatch.models import Escalation, ServiceCall
from dispatch.services.escalations import Concession, MoveOrder, Reschedule

FIELDS = (
    "strategy",
    "resolution",
    "customer_message",
    "apply_move",
    "technician",
    "position",
    "labor_hours",
    "discount_percent",
    "new_day",
    "new_from",
    "new_to",
)
MAX_TEXT = 2000


def _session_key(escalation_id: int) -> str:
    return f"resolve-form-{escalation_id}"


def form_keep(request, escalation_id: int, error: InvalidInput | None) -> None:
    """What was typed, for the next view of the page (the redirect that shows the error)."""
    kept = {name: request.POST.get(name, "")[:MAX_TEXT] for name in FIELDS}
    kept["error_field"] = getattr(error, "field", "") or ""
    request.session[_session_key(escalation_id)] = kept


def form_initial(request, escalation: Escalation, now: datetime) -> dict[str, str]:
    """The form's values: what was typed before a refusal, else the defaults."""
    kept = request.session.pop(_session_key(escalation.pk), None)
    return kept or _defaults(escalation.call, now)


def _defaults(call: ServiceCall, now: datetime) -> dict[str, str]:
    """Triage, and for accept the same window on the next day (the manager changes it)."""
    start = timezone.localtime(call.window_start) if call.window_start else None
    end = timezone.localtime(call.deadline) if call.deadline else None
    return {
        "strategy": Escalation.Strategy.TRIAGE,
        "technician": "" if call.technician_id is None else str(call.technician_id),
        "position": "1" if call.position is None else str(call.position + 1),
        "new_day": (timezone.localdate(now) + timedelta(days=1)).isoformat(),
        "new_from": f"{start:%H:%M}" if start and end and start < end else "09:00",
        "new_to": f"{end:%H:%M}" if start and end and start < end else "11:00",
        "error_field": "",
    }


def _optional_int(raw: str | None, field: str, label: str) -> int | None:
    raw = (raw or "").strip()
    if raw in ("", "none"):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{label} must be a whole number.", field) from None


def _optional_decimal(raw: str | None, field: str, label: str) -> Decimal | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{label} must be a number.", field) from None
    if not value.is_finite():
        raise InvalidInput(f"{label} must be a number.", field)
    return value.quantize(Decimal("0.01"))


def move_from(post) -> MoveOrder | None:
    if post.get("apply_move") != "1":
        return None
    shown = _optional_int(post.get("position"), "position", "The queue position")
    version = _optional_int(post.get("expected_version"), "expected_version", "The version")
    if version is None:
        raise InvalidInput("The page is missing the call's version; reload it.", "move")
    return MoveOrder(
        technician_id=_optional_int(post.get("technician"), "technician", "The technician"),
        position=None if shown is None else shown - 1,  # people count from 1
        expected_version=version,
    )


def concession_from(post) -> Concession:
    return Concession(
        labor_hours=_optional_decimal(post.get("labor_hours"), "concession", "Free labor hours"),
        discount_percent=_optional_decimal(
            post.get("discount_percent"), "concession", "The discount"
        ),
    )


def _parse(raw: str, kind, label: str):
    try:
        return kind.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{label} is not valid: {raw.strip() or 'empty'}.", "reschedule"
        ) from None


def reschedule_from(post) -> Reschedule | None:
    """Accept's new day and window; the other strategies keep the call's time (fields ignored)."""
    if post.get("strategy") != Escalation.Strategy.ACCEPT:
        return None
    raw_day, raw_from, raw_to = (post.get(n, "").strip() for n in ("new_day", "new_from", "new_to"))
    if not (raw_day or raw_from or raw_to):
        return None  # the service says what is missing
    if not (raw_day and raw_from and raw_to):
        raise InvalidInput("Give the new day and both ends of the new window.", "reschedule")
    day: date = _parse(raw_day, date, "The new day")
    start: time = _parse(raw_from, time, "The window's start")
    end: time = _parse(raw_to, time, "The window's end")
    zone = timezone.get_current_timezone()
    return Reschedule(
        window_start=datetime.combine(day, start, zone), deadline=datetime.combine(day, end, zone)
    )
