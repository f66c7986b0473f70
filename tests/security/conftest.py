"""The cast for the security checks: seven personas and the objects their URLs name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from dispatch import clock
from dispatch.models import Escalation
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch, morning):
    monkeypatch.setattr(clock, "now", lambda: morning)


@pytest.fixture
def world(csr, dispatcher, manager, tom, tina, south, make_call, skills, customer, site):
    sam = make_user("sam", "dispatcher")
    south.staff.add(sam)
    call = make_call(tom, summary="Leaking boiler", status="assigned")
    # The escalation is on tom's second call, so escalating the first one can succeed.
    escalated = make_call(tom, summary="No heating", status="assigned")
    escalation = Escalation.objects.create(call=escalated, reason="complaint", raised_by=dispatcher)
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
        "tom": tom,
        "skill": skills["plumbing"],
        "customer": customer,
        "site": site,
        "newcomer": make_user("nia", None),
    }
