"""Risk transitions as events, and the rules that escalate what nobody is handling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.models import CallEvent, Escalation, ServiceCall
from dispatch.services.escalations import escalation_raise, escalations_check
from dispatch.services.etas import etas_refresh_day
from dispatch.services.moves import call_move
from tests.conftest import DAY, behind_a_long_job, local

pytestmark = pytest.mark.django_db


def kinds(call) -> list[str]:
    return list(call.events.order_by("id").values_list("kind", flat=True))


def test_time_passing_raises_risk_once_then_late_then_clears_after_a_rescue(
    dispatcher, tom, tina, make_call
):
    # Behind a two-hour job (risk is a probability: uncertainty ahead is what makes it risky).
    call = behind_a_long_job(make_call, tom, deadline=local(11))
    etas_refresh_day(day=DAY, now=local(7, 30))
    assert kinds(call) == []  # on time: nothing to say
    etas_refresh_day(day=DAY, now=local(8, 45))
    etas_refresh_day(day=DAY, now=local(8, 50))  # still at risk: no second event
    call.refresh_from_db()
    assert call.risk == "at_risk" and call.risk_since == local(8, 45)
    raised = call.events.get(kind="risk_raised")
    assert raised.payload["after"] == "at_risk" and raised.payload["slack_minutes"] < 30
    assert call.p_late > 0.3 and call.eta <= call.deadline
    etas_refresh_day(day=DAY, now=local(10, 30))
    call.refresh_from_db()
    assert kinds(call) == ["risk_raised", "risk_raised"] and call.risk == "late"
    assert call.risk_since == local(8, 45)  # the spell began when it first went at risk
    # Moving the call's deadline cannot be done by a move; push the clock back instead: a
    # recompute at an earlier hour (a new plan) clears it.
    etas_refresh_day(day=DAY, now=local(8))
    call.refresh_from_db()
    assert kinds(call)[-1] == "risk_cleared" and call.risk == "ok" and call.risk_since is None


def test_a_harmful_move_records_the_risk_it_causes(dispatcher, tom, make_call):
    first = make_call(tom, deadline=local(8, 45))
    etas_refresh_day(day=DAY, now=local(7, 30))
    big = make_call(duration_minutes=120)
    call_move(
        user=dispatcher,
        call_id=big.pk,
        technician_id=tom.pk,
        position=0,
        expected_version=big.version,
        now=local(7, 30),
    )
    event = first.events.get(kind="risk_raised")
    assert event.actor == dispatcher and event.payload["after"] == "late"


def test_escalation_raises_priority_and_never_duplicates(dispatcher, make_call):
    call = make_call(priority="low")
    assert escalation_raise(call_id=call.pk, reason="complaint", user=dispatcher) is not None
    assert escalation_raise(call_id=call.pk, reason="complaint", user=dispatcher) is None
    call.refresh_from_db()
    assert call.priority == "normal" and Escalation.objects.filter(call=call).count() == 1
    assert kinds(call) == ["escalated"]


def test_a_safety_escalation_makes_the_call_an_emergency(make_call):
    call = make_call(priority="normal")
    escalation_raise(call_id=call.pk, reason="safety")
    call.refresh_from_db()
    assert call.priority == "emergency"


def _age(call, **fields) -> None:
    ServiceCall.objects.filter(pk=call.pk).update(**fields)


def test_rule_unattended_risk_escalates_after_the_grace_period(tom, make_call, settings):
    settings.ESCALATE_AT_RISK_AFTER_MINUTES = 15
    call = behind_a_long_job(make_call, tom, deadline=local(11))
    etas_refresh_day(day=DAY, now=local(8, 45))
    _age(call, updated_at=local(8))
    assert escalations_check(now=local(8, 55)) == 0  # only 10 minutes at risk
    assert escalations_check(now=local(9, 1)) == 1
    escalation = Escalation.objects.get(call=call)
    assert (escalation.reason, escalation.raised_by) == ("deadline_risk", None)
    assert escalations_check(now=local(10, 30)) == 0  # one open escalation is enough


def test_rule_unattended_risk_waits_while_someone_acts(tom, make_call):
    call = behind_a_long_job(make_call, tom, deadline=local(11))
    etas_refresh_day(day=DAY, now=local(8, 45))
    assert ServiceCall.objects.get(pk=call.pk).risk == "at_risk"
    _age(call, updated_at=local(8, 55))  # a dispatcher touched it ten minutes into the risk
    assert escalations_check(now=local(9, 1)) == 0


def test_rule_unassigned_emergency(make_call, settings):
    settings.ESCALATE_EMERGENCY_UNASSIGNED_MINUTES = 10
    call = make_call(priority="emergency")
    _age(call, created_at=local(9))
    assert escalations_check(now=local(9, 5)) == 0
    assert escalations_check(now=local(9, 11)) == 1
    assert Escalation.objects.get(call=call).reason == "safety"
    assert escalations_check(now=local(9, 30)) == 0


@pytest.mark.parametrize(
    # High stays high: emergency is kept for safety hazards, so they still jump every queue.
    "priority, hours, raised",
    [("low", 72, "normal"), ("normal", 24, "high"), ("high", 4, "high")],
)
def test_rule_aging_by_priority(make_call, priority, hours, raised):
    booked = local(9) - timedelta(hours=hours)
    call = make_call(priority=priority, scheduled_day=booked.date())
    _age(call, created_at=booked)
    assert escalations_check(now=local(8, 59)) == 0
    assert escalations_check(now=local(9, 1)) == 1
    escalation = Escalation.objects.get(call=call)
    assert escalation.reason == "aging"
    call.refresh_from_db()
    assert call.priority == raised
    assert CallEvent.objects.filter(call=call, kind="escalated").count() == 1


def test_resolved_escalation_lets_a_new_one_open(make_call):
    call = make_call(priority="emergency")
    _age(call, created_at=local(8))
    assert escalations_check(now=local(9)) == 1
    Escalation.objects.filter(call=call).update(status="resolved")
    assert escalations_check(now=local(9, 1)) == 1
    assert Escalation.objects.filter(call=call, status="open").count() == 1


def test_an_appointment_booked_days_ahead_is_not_aging(make_call):
    call = make_call(priority="normal", window_start=local(13))  # booked a week ago for today
    _age(call, created_at=local(9) - timedelta(days=7))
    assert escalations_check(now=local(12)) == 0  # its window has not even opened
    assert escalations_check(now=local(23)) == 0  # open for 10 hours of its day: not 24 yet
    assert not Escalation.objects.filter(call=call).exists()
