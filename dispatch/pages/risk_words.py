"""How every page says a call's risk in words: one rule, used by the timeline's blocks, the
column board's cards, the alert strip, the phone's cards, the call page, the escalation desk and
the Suggest panel (through the `odds` template filters where a template prints it).

    risk_words("At risk", 20, 0.38)  -> "At risk · 20 min to spare · 62% on time"
    slack_words(-15)                 -> "15 min past the deadline"   (never "slack -15")
    on_time_words(0.28)              -> "72% on time"
    standing_label("ok", has_deadline=False, assigned=False) -> "Unassigned"
    waiting_words(booked, now)       -> "waiting 1 h 30 min"
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

RISK_LABELS = {"late": "Late", "at_risk": "At risk"}

# Closer than this to 0 or 1, 256 draws make a chance very likely, not certain: it reads ">99%"
# or "<1%", and a block that already says "Late" does not repeat "<1% on time".
NEAR_CERTAIN = 0.005
# Below this chance of being late the percentage says nothing the risk word does not.
MATERIAL_P_LATE = 0.05


def risk_label(risk: str | None) -> str:
    """ "Late", "At risk" or "On time" (anything else, no risk worked out yet included)."""
    return RISK_LABELS.get(risk or "", "On time")


# What a call that is neither at risk nor late says instead of "On time" when "on time" would not
# be true: nobody has it yet (so it has no ETA), or it has no deadline to be on time for.
UNASSIGNED = "Unassigned"
NO_DEADLINE = "No deadline"
# The badge's class beside the risk's colour: "unassigned" and "none" read neutral, not green (an
# unassigned emergency reads alarming: static/css/app.css).
STANDING_CLASSES = {UNASSIGNED: "unassigned", NO_DEADLINE: "none"}


def standing_label(risk: str | None, *, has_deadline: bool, assigned: bool) -> str:
    """What a call's badge says: "Late" or "At risk" whenever it is; otherwise "Unassigned" when
    nobody has it, "No deadline" when there is nothing to be on time for, else "On time"."""
    if risk in RISK_LABELS:
        return RISK_LABELS[risk]
    if not assigned:
        return UNASSIGNED
    if not has_deadline:
        return NO_DEADLINE
    return "On time"


def standing_of(call) -> str:
    """`standing_label` of a call or a board card (risk, deadline, technician_id)."""
    return standing_label(
        call.risk, has_deadline=call.deadline is not None, assigned=call.technician_id is not None
    )


# The short word a narrow block or a week line shows for a standing (the title says it all).
# "OK" only for a call that can be on time: without a deadline a dash, unassigned "Wait".
SHORT_STANDING = {"Late": "Late", "At risk": "Risk", UNASSIGNED: "Wait", NO_DEADLINE: "—"}


def short_standing(label: str) -> str:
    return SHORT_STANDING.get(label, "OK")


def standing_class(label: str) -> str:
    """ "standing-unassigned", "standing-none" or "" (the risk's colour says the rest)."""
    word = STANDING_CLASSES.get(label)
    return f"standing-{word}" if word else ""


def waiting_words(since: datetime | None, now: datetime) -> str:
    """ "waiting 1 h 30 min" since `since` (dispatch.selectors.waiting.waiting_since); empty
    before then (booked for later, or its window not open yet)."""
    if since is None or since > now:
        return ""
    return f"waiting {duration_words(int((now - since).total_seconds() // 60))}"


def whole_minutes(value: float) -> int:
    """Minutes rounded half away from zero (the templates' `floatformat:0`), never -0."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def duration_words(minutes: int) -> str:
    """ "45 min", "2 h", "7 h 59 min"."""
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def slack_words(slack_minutes: float | None) -> str:
    """ "20 min to spare", "0 min to spare", "15 min past the deadline"; empty without a
    deadline (no slack to speak of)."""
    if slack_minutes is None:
        return ""
    minutes = whole_minutes(slack_minutes)
    if minutes >= 0:
        return f"{duration_words(minutes)} to spare"
    return f"{duration_words(-minutes)} past the deadline"


def on_time_words(p_late: float | None) -> str:
    """ "72% on time"; never "100%" or "0%" for what 256 draws only make very likely: the ends
    read ">99%" and "<1%". Empty without a deadline (no chance to speak of)."""
    if p_late is None:
        return ""
    if p_late < NEAR_CERTAIN:
        return ">99% on time"
    if p_late > 1.0 - NEAR_CERTAIN:
        return "<1% on time"
    return f"{round(100 * (1.0 - p_late))}% on time"


def material_on_time_words(p_late: float | None) -> str:
    """The chance in words only when it says more than the risk word: empty under
    MATERIAL_P_LATE and at near-certain lateness ("Late" already says "<1% on time")."""
    if p_late is not None and MATERIAL_P_LATE <= p_late <= 1.0 - NEAR_CERTAIN:
        return on_time_words(p_late)
    return ""


def risk_words(risk: str, slack_minutes: float | None, p_late: float | None) -> str:
    """One statement of the risk: "On time · 8 h to spare", "At risk · 20 min to spare · 62% on
    time", "Late · 15 min past the deadline"; the chance only when it is material. `risk` is
    the risk's label (risk_label)."""
    words = [risk, slack_words(slack_minutes), material_on_time_words(p_late)]
    return " · ".join(w for w in words if w)
