"""Plan the day through the product: the API contract, applying through the move service, a
stale plan refused whole, bad input answered, and a re-plan that changes only what it must."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token

from dispatch.models import CallEvent, DayPlan, ServiceCall
from dispatch.services.day_plans import plan_compute
from tests.conftest import DAY, local

pytestmark = pytest.mark.django_db

SECONDS = 1  # the solver's limit in these tests: small days, found at once


@pytest.fixture
def day_before(clock_at):
    clock_at(local(7, 0))


def _queue(tech):
    return list(
        ServiceCall.objects.filter(technician=tech, scheduled_day=DAY)
        .order_by("position")
        .values_list("id", flat=True)
    )


def _ask(api, user, **body):
    body = {"day": DAY.isoformat(), "seconds": SECONDS, **body}
    return api.as_user(user).post("/api/v1/plans/", body, format="json")


def _computed(api, user, **body):
    response = _ask(api, user, **body)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "running"
    plan_compute(response.json()["id"])
    return api.as_user(user).get(f"/api/v1/plans/{response.json()['id']}/").json()


@pytest.fixture
def waiting_day(day_before, make_call, north, tom, tina):
    # Six calls nobody has yet, spread between Tom's home and Tina's.
    return [
        make_call(
            summary=f"Call {i}",
            duration_minutes=45,
            deadline=local(16),
            site=_site(41.88 + 0.004 * i, -87.63 - 0.004 * i),
        )
        for i in range(6)
    ]


def _site(lat, lng):
    from customers.models import Customer, Site

    customer = Customer.objects.first() or Customer.objects.create(name="C")
    return Site.objects.create(customer=customer, address=f"{lat},{lng}", lat=lat, lng=lng)


def test_a_dispatcher_plans_the_day_reads_the_proposal_and_applies_it(
    api, dispatcher, north, tom, tina, waiting_day
):
    plan = _computed(api, dispatcher, team=north.pk)
    assert plan["status"] == "ready"
    assert set(plan) >= {"id", "status", "routes", "unplanned", "before", "after", "changes"}
    for figures in (plan["before"], plan["after"]):
        assert set(figures) == {
            "late", "at_risk", "travel_minutes", "overtime_minutes", "calls_moved",
            "promises_broken", "waiting",
        }  # fmt: skip
    assert (plan["before"]["waiting"], plan["after"]["waiting"]) == (6, 0)
    planned = sorted(c for r in plan["routes"] for c in r["calls"])
    assert planned == sorted(c.pk for c in waiting_day)
    assert plan["after"]["late"] == 0 and plan["unplanned"] == []
    assert {c["call"] for c in plan["changes"]} == {c.pk for c in waiting_day}
    assert all(c["from_technician"] is None for c in plan["changes"])

    applied = api.as_user(dispatcher).post(f"/api/v1/plans/{plan['id']}/apply/", {}, format="json")
    assert applied.status_code == 200, applied.json()
    assert len(applied.json()["moved"]) == 6
    assert "6 waiting calls given out" in applied.json()["ripple"]
    for route in plan["routes"]:
        assert _queue(route["technician"]) == route["calls"]
    # Through the move service: each call has its "assigned" event with the plan as its reason.
    events = CallEvent.objects.filter(kind="assigned", call__in=waiting_day)
    assert events.count() == 6
    assert {e.payload.get("reason") for e in events} == {f"Day plan #{plan['id']}"}
    assert DayPlan.objects.get(pk=plan["id"]).applied_at is not None
    # Applying twice is refused: the plan is spent.
    again = api.as_user(dispatcher).post(f"/api/v1/plans/{plan['id']}/apply/", {}, format="json")
    assert again.status_code == 400 and "already applied" in again.json()["detail"]


def test_a_stale_plan_is_refused_whole_naming_the_calls_that_changed(
    api, dispatcher, north, tom, tina, waiting_day, make_call
):
    plan = _computed(api, dispatcher, team=north.pk)
    # Meanwhile someone gives one of the waiting calls to Tina by hand.
    taken = waiting_day[0]
    moved = api.as_user(dispatcher).post(
        f"/api/v1/calls/{taken.pk}/move/",
        {"technician": tina.pk, "position": 0, "expected_version": taken.version},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    before = {t.pk: _queue(t) for t in (tom, tina)}
    response = api.as_user(dispatcher).post(f"/api/v1/plans/{plan['id']}/apply/", {}, format="json")
    assert response.status_code == 409
    assert f"#{taken.pk}" in response.json()["detail"]
    assert {t.pk: _queue(t) for t in (tom, tina)} == before  # nothing applied
    # A selection that does not touch the changed call or its queues still applies.
    others = [
        c["call"] for c in plan["changes"] if c["to_technician"] == tom.pk and c["call"] != taken.pk
    ]
    if others:
        ok = api.as_user(dispatcher).post(
            f"/api/v1/plans/{plan['id']}/apply/", {"calls": others}, format="json"
        )
        assert ok.status_code == 200, ok.json()
        assert [c for c in _queue(tom) if c in others] == [
            c
            for r in plan["routes"]
            if r["technician"] == tom.pk
            for c in r["calls"]
            if c in others
        ]


def test_a_new_call_in_a_queue_the_plan_rewrites_makes_it_stale(
    api, dispatcher, north, tom, tina, waiting_day, make_call
):
    plan = _computed(api, dispatcher, team=north.pk)
    target = next(r["technician"] for r in plan["routes"] if r["calls"])
    newcomer = make_call(ServiceCall.objects.get(pk=plan["routes"][0]["calls"][0]).technician)
    if newcomer.technician_id is None:  # the plan was not applied: put it in the queue by hand
        ServiceCall.objects.filter(pk=newcomer.pk).update(
            technician_id=target, status="assigned", position=0
        )
    response = api.as_user(dispatcher).post(f"/api/v1/plans/{plan['id']}/apply/", {}, format="json")
    assert response.status_code == 409
    assert f"#{newcomer.pk}" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"team": 999999}, 400, "team"),
        ({"seconds": 0}, 400, "seconds"),
        ({"seconds": 500}, 400, "seconds"),
        ({"day": "1999-01-01"}, 400, "day"),
        ({"day": "not a day"}, 400, "day"),
        ({"colour": "red"}, 400, None),
    ],
)
def test_bad_plan_requests_get_a_clear_error_and_create_nothing(
    api, dispatcher, north, day_before, body, status, field
):
    response = _ask(api, dispatcher, **body)
    assert response.status_code == status, response.json()
    assert response.json()["detail"]
    if field:
        assert response.json().get("field") == field
    assert DayPlan.objects.count() == 0


def test_only_dispatchers_and_managers_plan_the_day(api, csr, manager, north, tom, day_before):
    assert _ask(api, csr, team=north.pk).status_code == 403
    tech_client = api.__class__()
    tech_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=tom.user).key}")
    response = tech_client.post("/api/v1/plans/", {"day": DAY.isoformat()}, format="json")
    assert response.status_code == 403
    assert DayPlan.objects.count() == 0
    created = _ask(api, manager, team=north.pk)
    assert created.status_code == 201
    plan_id = created.json()["id"]
    assert tech_client.get(f"/api/v1/plans/{plan_id}/").status_code == 403
    assert api.as_user(csr).get(f"/api/v1/plans/{plan_id}/").status_code == 403
    assert api.as_user(manager).get("/api/v1/plans/999999/").status_code == 404


def test_planning_an_applied_day_again_moves_no_call(
    api, dispatcher, north, tom, tina, waiting_day
):
    first = _computed(api, dispatcher, team=north.pk)
    api.as_user(dispatcher).post(f"/api/v1/plans/{first['id']}/apply/", {}, format="json")
    again = _computed(api, dispatcher, team=north.pk)
    assert again["after"]["calls_moved"] == 0
    assert again["changes"] == []
    assert again["routes"] == first["routes"]


def test_one_new_emergency_moves_only_what_it_must(
    api, dispatcher, north, tom, tina, waiting_day, make_call, clock_at
):
    first = _computed(api, dispatcher, team=north.pk)
    api.as_user(dispatcher).post(f"/api/v1/plans/{first['id']}/apply/", {}, format="json")
    emergency = make_call(
        summary="Gas smell", priority="emergency", duration_minutes=30, deadline=local(9, 30),
        site=_site(41.881, -87.631),
    )  # fmt: skip
    plan = _computed(api, dispatcher, team=north.pk)
    assert plan["after"]["calls_moved"] == 0  # nobody's call changes hands
    moved = [c for c in plan["changes"] if c["from_technician"] not in (None, c["to_technician"])]
    assert moved == []
    given = [c for c in plan["changes"] if c["from_technician"] is None]
    assert [c["call"] for c in given] == [emergency.pk]
    assert given[0]["risk_after"] != "late"


def test_work_under_way_is_never_moved_and_a_technician_off_shift_gets_nothing(
    api, dispatcher, north, tom, tina, make_call, clock_at
):
    clock_at(local(10, 0))
    on_site = make_call(tom, status="on_site", started_at=local(9, 30), duration_minutes=120)
    queued = make_call(tom, duration_minutes=30)
    tina.status = "off"
    tina.save(update_fields=["status"])
    plan = _computed(api, dispatcher, team=north.pk)
    routes = {r["technician"]: r["calls"] for r in plan["routes"]}
    assert routes[tom.pk][0] == on_site.pk
    assert queued.pk in routes[tom.pk]
    assert routes[tina.pk] == []


def test_a_team_plan_leaves_other_teams_alone(
    api, dispatcher, north, south, tom, otto, make_call, day_before
):
    theirs = make_call(otto)
    plan = _computed(api, dispatcher, team=north.pk)
    assert otto.pk not in {r["technician"] for r in plan["routes"]}
    assert theirs.pk not in {c["call"] for c in plan["changes"]}


def test_every_team_at_once(api, manager, north, south, tom, otto, waiting_day):
    plan = _computed(api, manager, team=None)
    assert {r["technician"] for r in plan["routes"]} >= {tom.pk, otto.pk}
    assert sorted(c for r in plan["routes"] for c in r["calls"]) == sorted(
        c.pk for c in waiting_day
    )


def test_a_failed_plan_says_why_and_changes_nothing(api, dispatcher, north, tom, waiting_day):
    response = _ask(api, dispatcher, team=north.pk)

    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    plan = plan_compute(response.json()["id"], solver=broken)
    assert plan.status == "failed" and "solver exploded" in plan.error
    body = api.as_user(dispatcher).get(f"/api/v1/plans/{plan.pk}/").json()
    assert body["status"] == "failed" and body["before"] is None
    apply = api.as_user(dispatcher).post(f"/api/v1/plans/{plan.pk}/apply/", {}, format="json")
    assert apply.status_code == 400
    assert _queue(tom) == []


def test_a_later_day_is_planned_from_its_shift_start(
    api, dispatcher, north, tom, make_call, clock_at
):
    clock_at(local(15, 0, day=DAY - timedelta(days=1)))
    call = make_call(deadline=local(9, 0), duration_minutes=30)
    plan = _computed(api, dispatcher, team=north.pk)
    assert plan["after"]["late"] == 0
    assert [c["call"] for c in plan["changes"]] == [call.pk]


def test_a_team_that_asks_gets_a_proposal_when_a_call_turns_late_and_never_an_applied_one(
    north, south, tom, make_call, day_before, django_capture_on_commit_callbacks, dispatcher
):
    from dispatch.services.risk import RiskChange, risk_transitions_record

    call = make_call(tom, deadline=local(9))
    late = RiskChange(call.pk, "at_risk", "late", -5.0, local(9, 5))
    # Off by default: nothing is prepared.
    with django_capture_on_commit_callbacks(execute=True):
        risk_transitions_record([late])
    assert DayPlan.objects.count() == 0
    north.replan_on_events = True
    north.save(update_fields=["replan_on_events"])
    with django_capture_on_commit_callbacks(execute=True):
        risk_transitions_record([late])
    (plan,) = DayPlan.objects.all()
    assert (plan.team_id, plan.day, plan.trigger, plan.created_by) == (north.pk, DAY, "late", None)
    # Another late call minutes later does not pile up proposals.
    with django_capture_on_commit_callbacks(execute=True):
        risk_transitions_record([late])
    assert DayPlan.objects.count() == 1
    plan_compute(plan.pk)
    plan.refresh_from_db()
    assert plan.status == "ready" and plan.applied_at is None
    # The board tells the dispatcher a proposal is waiting.
    from django.test import Client

    client = Client()
    client.force_login(dispatcher)
    page = client.get(f"/board/?day={DAY.isoformat()}&team={north.pk}")
    assert f"plan #{plan.pk}" in page.content.decode()
    assert ServiceCall.objects.get(pk=call.pk).technician_id == tom.pk


def test_an_emergency_booked_prepares_a_proposal_for_the_teams_that_ask(
    north, south, dispatcher, customer, site, day_before, django_capture_on_commit_callbacks
):
    from dispatch.services.calls import call_book

    south.replan_on_events = True
    south.save(update_fields=["replan_on_events"])
    with django_capture_on_commit_callbacks(execute=True):
        call_book(user=dispatcher, customer=customer, site=site, summary="Gas smell",
                  scheduled_day=DAY, duration_minutes=30, priority="emergency")  # fmt: skip
    (plan,) = DayPlan.objects.all()
    assert (plan.team_id, plan.trigger) == (south.pk, "emergency")
