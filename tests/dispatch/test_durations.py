"""Learned durations end to end: history in, spreads stored, the recompute's p_late from them."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from django.core.management import call_command

from dispatch.models import CallCategory, DurationModel, ServiceCall
from dispatch.selectors.durations import learned_durations
from dispatch.services.durations import durations_learn
from dispatch.services.etas import etas_refresh_day
from tests.conftest import DAY, behind_a_long_job, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def boiler(db) -> CallCategory:
    return CallCategory.objects.create(code="boiler", name="Boiler", default_duration_minutes=240)


@pytest.fixture
def filters(db) -> CallCategory:
    return CallCategory.objects.create(code="filter", name="Filter", default_duration_minutes=20)


def _history(customer, site, tech, category, mu, sigma, n, seed, *, drive=None):
    """n completed calls whose actual / estimate is log-normal(mu, sigma); ``drive``: (planned
    minutes, ratio) of the drive to each."""
    rng = random.Random(seed)
    estimate = category.default_duration_minutes
    calls = []
    for i in range(n):
        started = local(8) - timedelta(days=1 + i % 30)
        set_out = None
        planned = None
        if drive is not None:
            planned = drive[0]
            set_out = started - timedelta(minutes=drive[0] * drive[1])
        actual = max(1, round(estimate * math.exp(rng.gauss(mu, sigma))))
        calls.append(
            ServiceCall(
                customer=customer,
                site=site,
                summary="done",
                duration_minutes=estimate,
                scheduled_day=started.date(),
                status="completed",
                technician=tech,
                category=category,
                en_route_at=set_out,
                started_at=started,
                completed_at=started + timedelta(minutes=actual),
                actual_minutes=actual,
                planned_travel_minutes=planned,
            )
        )
    ServiceCall.objects.bulk_create(calls)


def test_no_history_gives_the_defaults(settings, boiler, tom):
    settings.DURATION_DEFAULT_SIGMA, settings.TRAVEL_DEFAULT_SIGMA = 0.4, 0.2
    learning = durations_learn(now=local(3))
    assert learning.calls == 0 and not DurationModel.objects.exists()
    learned = learned_durations()
    spread = learned.job(boiler.pk, tom.pk)
    assert (spread.mu, spread.sigma, spread.calls) == (0.0, 0.4, 0)
    assert (learned.travel.mu, learned.travel.sigma) == (0.0, 0.2)


def test_the_fit_recovers_known_parameters_from_generated_history(
    customer, site, tom, boiler, filters
):
    _history(customer, site, tom, boiler, 0.3, 0.4, 400, seed=1, drive=(20, 1.25))
    _history(customer, site, tom, filters, -0.1, 0.15, 400, seed=2)
    learning = durations_learn(now=local(3))
    assert (learning.calls, learning.drives, learning.categories) == (800, 400, 2)
    learned = learned_durations()
    long_jobs = learned.jobs[(boiler.pk, None)]
    assert long_jobs.mu == pytest.approx(0.3, abs=0.05)
    assert long_jobs.sigma == pytest.approx(0.4, abs=0.05)
    short = learned.jobs[(filters.pk, None)]
    assert short.mu == pytest.approx(-0.1, abs=0.03)
    assert short.sigma == pytest.approx(0.15, abs=0.03)
    assert learned.travel.mu == pytest.approx(math.log(1.25), abs=0.03)
    # Running it again replaces, never piles up.
    durations_learn(now=local(3))
    assert DurationModel.objects.filter(kind="travel").count() == 1


def test_a_technician_with_a_few_calls_is_shrunk_toward_the_category(
    customer, site, tom, tina, boiler
):
    _history(customer, site, tom, boiler, 0.0, 0.2, 300, seed=3)
    _history(customer, site, tina, boiler, 0.7, 0.05, 4, seed=4)  # four very slow jobs
    durations_learn(now=local(3))
    learned = learned_durations()
    own = learned.job(boiler.pk, tina.pk)
    assert learned.jobs[(boiler.pk, tina.pk)] == own
    assert 0.05 < own.mu < 0.35  # pulled most of the way back toward the category
    assert learned.job(boiler.pk, None) == learned.jobs[(boiler.pk, None)]


def test_the_command_learns(customer, site, tom, boiler, capsys, clock_at):
    clock_at(local(3))
    _history(customer, site, tom, boiler, 0.2, 0.3, 20, seed=5)
    call_command("learn_durations")
    assert "20 completed calls" in capsys.readouterr().out
    assert DurationModel.objects.filter(category=boiler, technician=None).exists()


def test_the_nightly_beat_runs_the_task_object():
    from config.celery import app
    from dispatch.tasks import learn_durations

    app.loader.import_default_modules()
    app.finalize()
    entry = app.conf.beat_schedule["learn-durations"]
    assert entry["task"] == learn_durations.name


def test_a_long_uncertain_job_raises_p_late_for_the_calls_behind_it(
    customer, site, tom, boiler, filters, make_call
):
    _history(customer, site, tom, boiler, 0.2, 0.6, 200, seed=6)
    _history(customer, site, tom, filters, 0.0, 0.05, 200, seed=7)
    durations_learn(now=local(3))
    first = make_call(tom, summary="Filter", duration_minutes=20, category=filters)
    behind = make_call(tom, summary="Filter", duration_minutes=20, deadline=local(13))
    etas_refresh_day(day=DAY, now=local(8))
    behind.refresh_from_db()
    steady = behind.p_late
    assert steady is not None and steady < 0.05 and behind.eta_p80 >= behind.eta
    first.category, first.duration_minutes = boiler, 240
    first.save()
    etas_refresh_day(day=DAY, now=local(8))
    behind.refresh_from_db()
    # The same planned slack shape, but behind four uncertain hours: now at risk.
    assert behind.p_late > 0.3 and behind.risk == "at_risk" and not behind.eta > behind.deadline


def test_the_api_gives_p_late_and_the_percentiles(api, dispatcher, tom, make_call):
    call = behind_a_long_job(make_call, tom, deadline=local(11))
    etas_refresh_day(day=DAY, now=local(8, 45))
    for url in (f"/api/v1/calls/{call.pk}/", f"/api/v1/calls/?day={DAY.isoformat()}"):
        data = api.as_user(dispatcher).get(url).json()
        if isinstance(data, dict) and "id" not in data:
            data = data["results"]
        row = data if isinstance(data, dict) else next(r for r in data if r["id"] == call.pk)
        assert 0.3 < row["p_late"] < 1 and row["risk"] == "at_risk"
        assert row["eta_p10"] < row["eta_p80"] < row["eta_p90"]
    schema = api.as_user(dispatcher).get("/api/schema/").content.decode()
    assert "p_late" in schema and "eta_p80" in schema


def test_the_card_and_call_page_say_the_chance_of_being_on_time(client, dispatcher, tom, make_call):
    call = behind_a_long_job(make_call, tom, deadline=local(11))
    etas_refresh_day(day=DAY, now=local(8, 45))
    call.refresh_from_db()
    words = f"{round(100 * (1 - call.p_late))}% on time"
    client.force_login(dispatcher)
    # The column board's card (the timeline's block is too small for words; its title has them)
    board = client.get(f"/board/?view=columns&day={DAY.isoformat()}").content.decode()
    assert f'<span class="odds">{words}</span>' in board
    timeline = client.get(f"/board/?day={DAY.isoformat()}").content.decode()
    assert "At risk · " in timeline and f" to spare · {words}" in timeline
    assert words in client.get(f"/calls/{call.pk}/").content.decode()


def test_the_dashboard_shows_calibration_and_the_durations_learned(
    client, dispatcher, customer, site, tom, boiler, clock_at
):
    _history(customer, site, tom, boiler, 0.2, 0.3, 30, seed=8)
    ServiceCall.objects.filter(category=boiler).update(deadline=local(8, 30), p_late_planned=0.25)
    ServiceCall.objects.filter(pk=ServiceCall.objects.first().pk).update(
        started_at=local(9)
    )  # one of the 30 arrived after its deadline
    durations_learn(now=local(3))
    clock_at(local(12))
    client.force_login(dispatcher)
    html = client.get("/dashboard/").content.decode()
    assert '<th scope="row">70-80%</th><td>30</td><td>75%</td><td>97%</td>' in html
    assert '<th scope="row">Boiler</th><td>30</td>' in html


def test_a_category_with_no_history_is_listed_with_what_it_is_planned_with(
    client, manager, boiler, settings
):
    settings.DURATION_DEFAULT_SIGMA = 0.35
    CallCategory.objects.create(code="filter", name="Filter change", default_duration_minutes=20)
    client.force_login(manager)
    html = client.get("/dashboard/").content.decode()
    # No history at all: the estimate as the median, the default spread (x1.57 is e^(1.28 x 0.35)).
    for name in ("Boiler", "Filter change"):
        assert f'<th scope="row">{name}</th><td>none yet</td><td>×1.00</td><td>×1.57</td>' in html


@pytest.mark.parametrize(
    ("p_late", "words"),
    [(None, ""), (0.004, ">99% on time"), (0.28, "72% on time"), (0.996, "<1% on time")],
)
def test_the_chance_in_words_never_claims_certainty(p_late, words):
    from dispatch.templatetags.odds import on_time_words

    assert on_time_words(p_late) == words
