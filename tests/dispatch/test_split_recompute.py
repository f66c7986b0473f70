"""The day's recompute in parts, one per team (issue 17, "Scale-out"): a part recomputes only
its team, two runs of a part at once leave what one leaves (and lose no move), a part's
statements do not grow with the number of other teams, and the day's heartbeat says "fresh"
only once every part is done."""

from __future__ import annotations

import threading
from datetime import time as clock_time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Site
from dispatch.models import Heartbeat, ServiceCall
from dispatch.selectors.queue_fields import ETA_FIELDS
from dispatch.services import background
from dispatch.services.etas import NO_TEAM, etas_refresh_day, etas_refresh_team
from dispatch.services.moves import call_move
from dispatch.tasks import recompute_team
from technicians.models import Team, Technician
from tests.conftest import DAY, local

STORED = ("id", *ETA_FIELDS, "eta_computed_at", "risk_since", "p_late_planned")


def build_teams(customer, teams: int, techs: int, per_tech: int, prefix: str = "t") -> list[Team]:
    """`teams` teams of `techs` technicians with `per_tech` queued calls each, two unassigned
    calls per team (last had by one of its technicians) and two no team has had yet."""
    made = Team.objects.bulk_create(Team(name=f"{prefix}-team-{i}") for i in range(teams))
    users = User.objects.bulk_create(
        User(username=f"{prefix}-tech-{i}") for i in range(teams * techs)
    )
    technicians = Technician.objects.bulk_create(
        Technician(
            user=user,
            name=f"Tech {i}",
            team=made[i // techs],
            home_lat=41.80 + (i % 10) * 0.01,
            home_lng=-87.75 + (i // 10 % 10) * 0.01,
            shift_start=clock_time(8),
            shift_end=clock_time(17),
            status="available",
        )
        for i, user in enumerate(users)
    )
    sites = Site.objects.bulk_create(
        Site(customer=customer, address=f"{i} Split St", lat=41.8 + i * 0.01, lng=-87.7)
        for i in range(7)
    )

    def call(n: int, **fields) -> ServiceCall:
        return ServiceCall(
            customer=customer,
            site=sites[n % len(sites)],
            summary="Split call",
            duration_minutes=30 + 15 * (n % 3),
            scheduled_day=DAY,
            **{"deadline": local(9 + n % 8) if n % 2 == 0 else None} | fields,
        )

    calls = [
        call(t * per_tech + p, technician=tech, position=p, status="assigned")
        for t, tech in enumerate(technicians)
        for p in range(per_tech)
    ]
    # Unassigned calls with a deadline, so that their first recompute writes them.
    calls += [
        call(i, team=team, status="new", deadline=local(12)) for team in made for i in range(2)
    ]
    calls += [call(i, status="new", deadline=local(13)) for i in range(2)]
    ServiceCall.objects.bulk_create(calls)
    return made


def stored() -> dict[int, tuple]:
    return {row[0]: row[1:] for row in ServiceCall.objects.values_list(*STORED)}


def computed_ids() -> set[int]:
    return set(
        ServiceCall.objects.filter(eta_computed_at__isnull=False).values_list("id", flat=True)
    )


def part_ids(team: Team | None) -> set[int]:
    """The calls a team's part owns: its technicians' queues and its unassigned calls."""
    if team is None:
        calls = ServiceCall.objects.filter(team__isnull=True, technician__isnull=True)
    else:
        calls = ServiceCall.objects.filter(team=team)
    return set(calls.values_list("id", flat=True))


BLANK = {name: None for name in ETA_FIELDS} | {"risk": "", "overtime": False}


def forget_etas() -> None:
    ServiceCall.objects.update(eta_computed_at=None, **BLANK)


def etas_of(team: Team) -> dict[int, tuple]:
    """The ETA fields (what a fresh computation gives, whatever came before) of a team's part."""
    ids = part_ids(team)
    return {
        row[0]: row[1:]
        for row in ServiceCall.objects.values_list("id", *ETA_FIELDS)
        if row[0] in ids
    }


# --- a part recomputes its team only ------------------------------------------------------------


@pytest.mark.django_db
def test_a_team_part_recomputes_only_that_teams_queues_and_unassigned_calls(customer):
    first, second, third = build_teams(customer, teams=3, techs=2, per_tech=3)
    now = local(9)
    written = etas_refresh_team(team_id=second.pk, day=DAY, now=now)
    assert computed_ids() == part_ids(second)
    assert written == len(part_ids(second)) == 2 * 3 + 2

    etas_refresh_team(team_id=NO_TEAM, day=DAY, now=now)
    assert computed_ids() == part_ids(second) | part_ids(None)
    assert len(part_ids(None)) == 2

    # The whole day is the same parts: what is left of it, and nothing of the second again.
    ServiceCall.objects.filter(id__in=part_ids(second)).update(eta_computed_at=local(0, 1))
    assert etas_refresh_day(day=DAY, now=now) == len(part_ids(first)) + len(part_ids(third))
    assert ServiceCall.objects.filter(eta_computed_at=local(0, 1)).count() == 8
    assert etas_refresh_day(day=DAY, now=now) == 0


@pytest.mark.django_db
def test_the_whole_day_in_parts_equals_the_parts_run_one_by_one(customer):
    teams = build_teams(customer, teams=3, techs=2, per_tech=3)
    now = local(10, 30)
    whole = etas_refresh_day(day=DAY, now=now)
    by_day = stored()
    forget_etas()
    parts = sum(etas_refresh_team(team_id=t, day=DAY, now=now) for t in [NO_TEAM, *teams[::-1]])
    assert parts == whole == ServiceCall.objects.count()
    assert stored() == by_day


# --- two runs at once -------------------------------------------------------------------------


def run_together(jobs) -> list[BaseException]:
    """Start the jobs at the same instant, each on a connection of its own; their errors."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a run hung (a deadlock?)"
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_a_part_at_once_leave_what_one_leaves_and_lose_no_move(
    customer, dispatcher, settings
):
    settings.RECOMPUTE_BATCH_SIZE = 3  # many small transactions, so the two runs interleave
    team, _other = build_teams(customer, teams=2, techs=12, per_tech=4)
    team.staff.add(dispatcher)
    techs = list(Technician.objects.filter(team=team).order_by("id"))
    now = local(11)
    etas_refresh_day(day=DAY, now=local(10))  # something stored, which both runs then replace
    # Moves within the team while both runs go: from the last technicians' queues to the first's.
    moving = [
        ServiceCall.objects.filter(technician=tech).order_by("position").first()
        for tech in techs[-4:]
    ]
    targets = techs[:4]

    def moves():
        for call, target in zip(moving, targets, strict=True):
            call_move(
                user=dispatcher,
                call_id=call.pk,
                technician_id=target.pk,
                position=0,
                expected_version=call.version,
                now=now,
            )

    def part():
        etas_refresh_team(team_id=team.pk, day=DAY, now=now)

    errors = run_together([part, part, moves])
    assert errors == []
    for call, target in zip(moving, targets, strict=True):
        call.refresh_from_db()
        assert (call.technician_id, call.position) == (target.pk, 0), "a move was lost"
    twice = etas_of(team)
    assert etas_refresh_team(team_id=team.pk, day=DAY, now=now) == 0  # nothing left stale

    # One run at the same instant, from nothing stored: the same ETAs, to the value.
    forget_etas()
    etas_refresh_team(team_id=team.pk, day=DAY, now=now)
    assert etas_of(team) == twice
    queued = ServiceCall.objects.filter(technician__team=team).values_list("id", flat=True)
    assert queued and all(twice[pk][0] is not None for pk in queued)  # every queue has ETAs


@pytest.mark.django_db(transaction=True)
def test_the_whole_day_and_its_parts_at_once_do_not_deadlock(customer, settings):
    settings.RECOMPUTE_BATCH_SIZE = 2
    teams = build_teams(customer, teams=3, techs=4, per_tech=3)
    now = local(12)
    jobs = [lambda: etas_refresh_day(day=DAY, now=now)] * 2
    jobs += [lambda t=t: etas_refresh_team(team_id=t.pk, day=DAY, now=now) for t in teams[::-1]]
    jobs += [lambda: etas_refresh_team(team_id=NO_TEAM, day=DAY, now=now)]
    assert run_together(jobs) == []
    assert etas_refresh_day(day=DAY, now=now) == 0


# --- statements per part ------------------------------------------------------------------------


def part_statements(team: Team, minute: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        recompute_team.run(team.pk, DAY.isoformat(), local(9, minute).isoformat())
    return len(queries)


def day_at_nine(units) -> None:
    etas_refresh_day(day=DAY, now=local(9))
    for unit in units:
        background.heartbeat_team_beat(unit, local(9))


@pytest.mark.django_db
def test_a_parts_statements_do_not_grow_with_the_number_of_other_teams(customer, settings):
    settings.RECOMPUTE_BATCH_SIZE = 3
    small = build_teams(customer, teams=2, techs=5, per_tech=3, prefix="a")
    day_at_nine([*(t.pk for t in small), NO_TEAM])  # learned durations cached, heartbeats there
    ids = part_ids(small[0])
    at_nine = list(ServiceCall.objects.filter(id__in=ids).values(*STORED))
    with_two = part_statements(small[0], 1)

    # Eight more teams, and the first team's rows put back as they were at 09:00: the same run.
    more = build_teams(customer, teams=8, techs=5, per_tech=3, prefix="b")
    day_at_nine([t.pk for t in more])
    for row in at_nine:
        ServiceCall.objects.filter(pk=row["id"]).update(**row)
    Heartbeat.objects.filter(name=background.heartbeat_team_name(small[0].pk)).update(
        last_success_at=local(9)
    )
    with_ten = part_statements(small[0], 1)
    assert with_ten == with_two
    # Two batches (3 and 2 technicians) and the empty one that ends them, the unassigned calls,
    # the risk events, the heartbeats: a fixed handful, not one per team.
    assert with_two <= 20, with_two


# --- the heartbeat ------------------------------------------------------------------------------


def heartbeat(name: str = background.RECOMPUTE):
    return Heartbeat.objects.filter(name=name).values_list("last_success_at", flat=True).first()


@pytest.mark.django_db
def test_the_days_heartbeat_is_fresh_only_once_every_part_is_done(customer):
    teams = build_teams(customer, teams=3, techs=1, per_tech=1)
    units = [*(t.pk for t in teams), NO_TEAM]
    for unit in units:
        recompute_team.run(unit, DAY.isoformat(), local(9).isoformat())
    assert heartbeat() == local(9)

    # The next minute's parts: the day moves on only with the last of them.
    for unit in units[:-1]:
        recompute_team.run(unit, DAY.isoformat(), local(9, 1).isoformat())
        assert heartbeat() == local(9)
    assert heartbeat(background.heartbeat_team_name(teams[0].pk)) == local(9, 1)
    recompute_team.run(units[-1], DAY.isoformat(), local(9, 1).isoformat())
    assert heartbeat() == local(9, 1)

    # A part that fails keeps the day at its last success; a late, older run changes nothing.
    for unit in units[1:]:
        recompute_team.run(unit, DAY.isoformat(), local(9, 2).isoformat())
    recompute_team.run(units[0], DAY.isoformat(), local(8).isoformat())
    assert heartbeat() == local(9, 1)
    assert heartbeat(background.heartbeat_team_name(teams[0].pk)) == local(9, 1)

    # A new team has no part done yet: the day waits for it.
    new = Team.objects.create(name="new")
    for unit in [*units, new.pk]:
        if unit != new.pk:
            recompute_team.run(unit, DAY.isoformat(), local(9, 3).isoformat())
    assert heartbeat() == local(9, 1)
    recompute_team.run(new.pk, DAY.isoformat(), local(9, 3).isoformat())
    assert heartbeat() == local(9, 3)


@pytest.mark.django_db
def test_a_part_of_another_day_records_no_heartbeat(customer):
    (team,) = build_teams(customer, teams=1, techs=1, per_tech=1)
    # "now" on the day before DAY: DAY is not today, so no heartbeat says today is fresh.
    recompute_team.run(team.pk, DAY.isoformat(), local(9, day=DAY.replace(day=9)).isoformat())
    assert not Heartbeat.objects.exists()
    assert ServiceCall.objects.filter(eta_computed_at__isnull=False).exists()


# --- fanning out ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_with_the_broker_down_the_fanning_worker_does_every_part_itself(customer, settings, caplog):
    from dispatch.tasks import recompute_day
    from tests.dispatch.test_background import closed_port_url

    build_teams(customer, teams=2, techs=2, per_tech=2)
    settings.REDIS_URL = settings.CELERY_BROKER_URL = closed_port_url()
    assert recompute_day.run(DAY.isoformat(), local(9).isoformat()) == 0  # none could be sent
    assert "Could not enqueue dispatch.tasks.recompute_team" in caplog.text
    assert not ServiceCall.objects.filter(eta_computed_at__isnull=True).exists()
    assert heartbeat() == local(9)
