"""The cast for the security checks: seven personas and the objects their URLs name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from common import clock
from customers.models import Customer, Site
from dispatch.models import DayPlan, Escalation
from technicians.models import HandoffOffer, OnCallShift, TechAsk
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, morning):
    monkeypatch.setattr(clock, "now", lambda: morning)


@pytest.fixture
def world(csr, dispatcher, manager, tom, tina, south, make_call, skills, customer, site, morning):
    sam = make_user("sam", "dispatcher")
    south.staff.add(sam)
    call = make_call(tom, summary="Leaking boiler", status="assigned")
    # The escalation is on tom's second call, so escalating the first one can succeed.
    escalated = make_call(tom, summary="No heating", status="assigned")
    escalation = Escalation.objects.create(call=escalated, reason="complaint", raised_by=dispatcher)
    # An open hand-off offer from tom (`own`) to tina (`other`), on a third call of tom's, so
    # offering the first call can succeed; `<offer_id>` names it.
    offered = make_call(tom, summary="Blocked drain", status="assigned")
    offer = HandoffOffer.objects.create(
        call=offered,
        from_technician=tom,
        to_technician=tina,
        call_version=offered.version,
        created_at=morning,
        expires_at=morning + timedelta(minutes=30),
    )
    # An open ask to tom (`own`) about a call he is on the way to; on the next day's queue, so
    # that today's status reports on his first call can still succeed. `asks/<pk>` names it.
    underway = make_call(
        tom,
        summary="Tripped breaker",
        status="en_route",
        scheduled_day=morning.date() + timedelta(days=1),
    )
    ask = TechAsk.objects.create(
        call=underway,
        technician=tom,
        asked_by=dispatcher,
        question=f"Can you still make #{underway.pk} today?",
        call_version=underway.version,
        created_at=morning,
        answer_by=morning + timedelta(minutes=5),
    )
    # A waiting call of tina's to swap with, and an unassigned call a technician may claim; for
    # another customer, so that tina still has no call of `customer`'s (its rows say 404).
    elsewhere = Customer.objects.create(name="Corner Shop", contract="full_service")
    shop = Site.objects.create(customer=elsewhere, address="9 Oak St", lat=41.9, lng=-87.64)
    theirs = make_call(tina, summary="Flickering lights", customer=elsewhere, site=shop)
    unassigned = make_call(summary="Dripping tap", customer=elsewhere, site=shop)
    users: dict[str, User | None] = {
        "anon": None,
        "csr": csr,
        "disp": dispatcher,
        "own": tom.user,
        "other": tina.user,
        "mgr": manager,
        "team": sam,
    }
    return {
        "users": users,
        "call": call,
        "escalation": escalation,
        "offer": offer,
        "ask": ask,
        "theirs": theirs,
        "unassigned": unassigned,
        "tina": tina,
        "tom": tom,
        "skill": skills["plumbing"],
        "customer": customer,
        "site": site,
        "newcomer": make_user("nia", None),
        # Tom on call tonight: `/rota/<shift_id>/` names it.
        "on_call": OnCallShift.objects.create(
            technician=tom,
            team=tom.team,
            starts_at=morning.replace(hour=23),
            ends_at=morning.replace(hour=23) + timedelta(hours=9),
            created_by=manager,
            created_at=morning,
        ),
        # A ready plan of tom's team's day that changes nothing (applying it moves no call).
        "plan": DayPlan.objects.create(
            team=tom.team,
            day=morning.date(),
            seconds=1,
            status="ready",
            created_by=dispatcher,
            before=_FIGURES,
            after=_FIGURES,
            planned_at=morning,
        ),  # fmt: skip
    }


_FIGURES = dict.fromkeys(
    ("late", "at_risk", "travel_minutes", "overtime_minutes", "calls_moved", "promises_broken"), 0
)
