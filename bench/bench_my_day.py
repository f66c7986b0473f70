"""The technician's day: `/me/` and the "on my way" status post, as ratios to raw baselines.

Same database rules as bench_board.py (BENCH_DATABASE_URL, wiped at start; its name must contain
"bench"). One synthetic team of --techs x --calls (bench/fleet.py); the technician measured is
the one with the longest queue whose first call is not yet started. Through Django's test Client
as that technician:

- /me/ GET, against one raw fetch of the same calls (with customer and site) rendered by a
  trivial template of the same shape;
- status POST (/me/calls/<id>/status/, "on my way"), against a raw SQL transaction that does the
  bare state change: lock the technician and the call, check the version, set both statuses,
  write the event. The product also re-plans the technician's queue (engine + ETA writes), which
  the baseline leaves out, as bench_board's move baseline does. Also call_status_update alone.
  Before every run (untimed) the call is put back to "assigned".

Methods are interleaved run by run.

    python bench/bench_my_day.py [--runs 15] [--techs 60] [--calls 600]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# bench_board sets up Django in its bench database (and refuses any other) when imported.
from bench import bench_board  # noqa: E402, I001

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.raw_events import raw_event_insert
from bench.fleet import build_fleet, data_wipe, database_prepare  # noqa: E402
from dispatch.models import ServiceCall  # noqa: E402
from dispatch.services.call_status import call_status_update  # noqa: E402
from dispatch.services.etas import etas_refresh_day  # noqa: E402
from technicians.models import Technician  # noqa: E402

medians, print_table, ratio_cells = (
    bench_board.medians,
    bench_board.print_table,
    bench_board.ratio_cells,
)


@dataclass(frozen=True)
class Subject:
    day: date
    technician_id: int
    user_id: int
    call_id: int
    queue_length: int


def subject_pick(day: date) -> Subject:
    queues: dict[int, list[tuple[int, str]]] = {}
    rows = (
        ServiceCall.objects.filter(scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES)
        .order_by("technician_id", "position")
        .values_list("technician_id", "id", "status")
    )
    for tech_id, call_id, status in rows:
        queues.setdefault(tech_id, []).append((call_id, status))
    ready = [t for t, q in queues.items() if q[0][1] == "assigned"]
    tech_id = max(ready, key=lambda t: (len(queues[t]), -t))
    tech = Technician.objects.get(pk=tech_id)
    return Subject(day, tech_id, tech.user_id, queues[tech_id][0][0], len(queues[tech_id]))


def reset(sb: Subject) -> int:
    """Untimed: the call back to not started, the technician available; returns its version."""
    ServiceCall.objects.filter(pk=sb.call_id).update(status="assigned", en_route_at=None)
    Technician.objects.filter(pk=sb.technician_id).update(status="available")
    return ServiceCall.objects.values_list("version", flat=True).get(pk=sb.call_id)


def page_http(client: Client) -> Callable[[], object]:
    def run():
        response = client.get("/me/")
        assert response.status_code == 200, response.status_code
        return response

    return run


RAW_QUEUE = """
    SELECT c.id, c.summary, c.status, c.version, c.window_start, c.deadline, c.eta, c.risk,
           cu.name, s.address, s.lat, s.lng
    FROM dispatch_servicecall c
    JOIN customers_customer cu ON cu.id = c.customer_id
    JOIN customers_site s ON s.id = c.site_id
    WHERE c.technician_id = %s AND c.scheduled_day = %s AND c.status <> 'cancelled'
    ORDER BY c.position, c.id
"""
RAW_TEMPLATE = """<ol>{% for c in calls %}
<li class="me-card risk-{{ c.risk }}" id="me-call-{{ c.id }}">
<h3>{{ forloop.counter }} {{ c.customer }}</h3><p>#{{ c.id }} {{ c.summary }}</p>
<p><a href="https://www.google.com/maps/search/?api=1&amp;query={{ c.lat }},{{ c.lng }}">
{{ c.address }}</a></p>
<dl><dt>Window</dt><dd>{{ c.window_start|time:"H:i" }}–{{ c.deadline|time:"H:i" }}</dd>
<dt>ETA</dt><dd>{{ c.eta|time:"H:i" }}</dd></dl>
<form method="post"><input type="hidden" name="expected_version" value="{{ c.version }}">
<button>On my way</button></form></li>{% endfor %}</ol>"""


def page_raw(sb: Subject) -> Callable[[], object]:
    template = engines["django"].from_string(RAW_TEMPLATE)
    keys = ("id", "summary", "status", "version", "window_start", "deadline", "eta", "risk")
    keys += ("customer", "address", "lat", "lng")

    def run() -> str:
        with connection.cursor() as cursor:
            cursor.execute(RAW_QUEUE, [sb.technician_id, sb.day])
            calls = [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
        return template.render({"calls": calls})

    return run


def status_http(client: Client, sb: Subject) -> Callable[[], object]:
    data = {"status": "en_route", "expected_version": reset(sb)}

    def run():
        response = client.post(f"/me/calls/{sb.call_id}/status/", data)
        assert response.status_code == 302, response.content[:300]
        return response

    return run


def status_service(sb: Subject) -> Callable[[], object]:
    version, user = reset(sb), User.objects.get(pk=sb.user_id)
    return lambda: call_status_update(
        user=user, call_id=sb.call_id, status="en_route", expected_version=version
    )


def status_raw(sb: Subject) -> Callable[[], object]:
    version = reset(sb)
    payload = json.dumps({"before": {"status": "assigned"}, "after": {"status": "en_route"}})

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM technicians_technician WHERE id = %s FOR UPDATE",
                [sb.technician_id],
            )
            cursor.execute(
                "SELECT version FROM dispatch_servicecall WHERE id = %s FOR UPDATE", [sb.call_id]
            )
            assert cursor.fetchone()[0] == version
            cursor.execute(
                "UPDATE dispatch_servicecall SET status = 'en_route', en_route_at = now(), "
                "version = version + 1, updated_at = now() WHERE id = %s",
                [sb.call_id],
            )
            cursor.execute(
                "UPDATE technicians_technician SET status = 'en_route', updated_at = now() "
                "WHERE id = %s",
                [sb.technician_id],
            )
            raw_event_insert(
                cursor, call_id=sb.call_id, actor_id=sb.user_id, kind="status", payload=payload
            )

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--techs", type=int, default=60)
    parser.add_argument("--calls", type=int, default=600)
    args = parser.parse_args()
    name = database_prepare()
    data_wipe()
    day = timezone.localdate()
    build_fleet(techs=args.techs, calls=args.calls, day=day, seed=1)
    etas_refresh_day(day=day)
    sb = subject_pick(day)
    client = Client()
    client.force_login(User.objects.get(pk=sb.user_id))
    html = page_http(client)()
    page = medians({"http": lambda: page_http(client), "raw": lambda: page_raw(sb)}, args.runs)
    status = medians(
        {
            "http": lambda: status_http(client, sb),
            "service": lambda: status_service(sb),
            "raw": lambda: status_raw(sb),
        },
        args.runs,
    )
    scenario = f"fleet {args.techs}x{args.calls}"
    (p_ms, p_q), (raw_p, raw_pq) = page["http"], page["raw"]
    (s_ms, s_q), (raw_s, raw_sq) = status["http"], status["raw"]
    kb = len(html.content) / 1024
    print(
        f"database {name}, {args.runs} runs, median; technician {sb.technician_id} with "
        f"{sb.queue_length} calls"
    )
    print_table(
        [
            (scenario, "/me/ GET", f"{p_ms:.1f}", f"{raw_p:.1f}", *ratio_cells(p_ms, raw_p, 3))
            + (str(p_q), f"html {kb:.0f} KB"),
            (scenario, "  raw fetch+render", f"{raw_p:.1f}", "", "", "", str(raw_pq), ""),
            (scenario, "status POST", f"{s_ms:.1f}", f"{raw_s:.1f}", *ratio_cells(s_ms, raw_s, 3))
            + (str(s_q), "on my way; re-plans the queue"),
            (scenario, "  call_status_update", f"{status['service'][0]:.1f}", f"{raw_s:.1f}")
            + ratio_cells(status["service"][0], raw_s, 3)
            + (str(status["service"][1]), "service only"),
            (scenario, "  raw transaction", f"{raw_s:.1f}", "", "", "", str(raw_sq), ""),
        ]
    )


if __name__ == "__main__":
    main()
