"""Board render and move round trip, as ratios to raw SQL baselines measured in the same run.

Runs in a dedicated PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dispatch_bench; created and migrated at start, wiped between
scenarios; DATABASE_URL is ignored so the product's data is never touched). Two scenarios: the
demo company (seed_demo --seed 1, team North) and a synthetic day of --techs x --calls in one
team (bench/fleet.py). For each, measured through Django's test Client as the dispatcher:

- board: GET /board/?view=columns (the column board; and the timeline, GET /board/) against
  one raw fetch of the same rows plus a trivial template of the same shape; also board_get +
  board_version alone (no HTTP, no template);
- move: POST /board/move/ (htmx, confirm=1) against a raw SQL transaction on the same rows; also
  call_move alone (no HTTP, no render);
- memory: VmRSS of a fresh process (a forkserver child, like a web worker) after serving the
  --techs x --calls board, and of this process.

Methods are interleaved run by run, so a noisy neighbour slows a measure and its baseline alike.

    python bench/bench_board.py [--runs 7] [--techs 60] [--calls 600] [--skip-demo]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Runnable as a plain script from anywhere, without installing the project.
sys.path.insert(0, str(REPO))
# Never the product's database: the benches wipe whatever they run in.
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")
warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic

import django

django.setup()

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.fleet import build_fleet, data_wipe, database_prepare
from bench.raw_events import raw_event_insert
from dispatch.models import ServiceCall
from dispatch.selectors import board_get, board_version
from dispatch.services.etas import etas_refresh_day
from dispatch.services.moves import call_move
from technicians.models import Team

Prepare = Callable[[], Callable[[], object]]  # untimed set-up returning the timed work


@dataclass(frozen=True)
class Scenario:
    name: str
    day: date
    team_id: int
    dispatcher_id: int
    call_id: int
    # The moved call shuttles between these (technician id, queue position) places.
    ends: tuple[tuple[int, int], tuple[int, int]]

    @property
    def board_url(self) -> str:
        # The column board: every technician of the team at once (the timeline pages by 25).
        return f"/board/?day={self.day.isoformat()}&team={self.team_id}&view=columns"

    @property
    def timeline_url(self) -> str:
        return f"/board/?day={self.day.isoformat()}&team={self.team_id}"


# --- scenarios -----------------------------------------------------------------------------------


def demo_scenario() -> Scenario:
    call_command("seed_demo", "--seed", "1", "--yes-wipe-everything", stdout=io.StringIO())
    team = Team.objects.get(name="North")
    dispatcher = User.objects.get(username="dispatcher")
    return pick_move("demo seed 1 (North)", timezone.localdate(), team, dispatcher)


def fleet_scenario(techs: int, calls: int) -> Scenario:
    day = timezone.localdate()
    fleet = build_fleet(techs=techs, calls=calls, day=day, seed=1)
    etas_refresh_day(day=day)
    return pick_move(f"fleet {techs}x{calls}", day, fleet.team, fleet.dispatcher)


def pick_move(name: str, day: date, team: Team, dispatcher: User) -> Scenario:
    """A not-yet-started call from the middle of the longest queue, to 3rd place in the next."""
    queues: dict[int, list[tuple[int, int, str]]] = {}
    rows = (
        ServiceCall.objects.filter(
            technician__team=team, scheduled_day=day, status__in=ServiceCall.QUEUED_STATUSES
        )
        .order_by("technician_id", "position")
        .values_list("technician_id", "id", "position", "status")
    )
    for tech_id, call_id, position, status in rows:
        queues.setdefault(tech_id, []).append((call_id, position, status))
    source, target = sorted(queues, key=lambda t: (-len(queues[t]), t))[:2]
    middle = queues[source][len(queues[source]) // 2 :]
    call_id, position, _ = next(c for c in middle if c[2] == "assigned")
    ends = ((source, position), (target, min(2, len(queues[target]))))
    return Scenario(name, day, team.pk, dispatcher.pk, call_id, ends)


# --- board ---------------------------------------------------------------------------------------

RAW_TECHNICIANS = """
    SELECT id, name, status FROM technicians_technician WHERE team_id = %s ORDER BY name
"""
RAW_CALLS = """
    SELECT c.id, c.technician_id, c.summary, c.priority, c.version, c.deadline, c.eta, c.risk,
           cu.name
    FROM dispatch_servicecall c
    JOIN customers_customer cu ON cu.id = c.customer_id
    LEFT JOIN technicians_technician t ON t.id = c.technician_id
    WHERE c.scheduled_day = %s AND c.status IN ('new', 'assigned', 'en_route', 'on_site')
      AND (t.team_id = %s OR c.technician_id IS NULL)
    ORDER BY c.position, c.id
"""
# The board's shape with none of its logic: a column per technician, a few fields per card.
RAW_TEMPLATE = """<div class="columns">{% for col in columns %}
<section class="column" id="col-{{ col.id }}"><h2>{{ col.name }}</h2><p>{{ col.status }}</p>
{% for c in col.calls %}<article class="card risk-{{ c.risk }}" id="call-{{ c.id }}"
 data-version="{{ c.version }}"><h3>#{{ c.id }} {{ c.summary }}</h3><p>{{ c.customer }}</p>
<p>{{ c.priority }} Due {{ c.deadline|time:"H:i" }} ETA {{ c.eta|time:"H:i" }}</p></article>
{% endfor %}</section>{% endfor %}</div>"""


def board_http(client: Client, sc: Scenario) -> Callable[[], object]:
    def run():
        response = client.get(sc.board_url)
        assert response.status_code == 200, response.status_code
        return response

    return run


def timeline_http(client: Client, sc: Scenario) -> Callable[[], object]:
    def run():
        response = client.get(sc.timeline_url)
        assert response.status_code == 200 and b'id="timeline"' in response.content
        return response

    return run


def board_selectors(sc: Scenario) -> Callable[[], object]:
    # A fresh user each time: roles are cached on the user object, as within one request.
    user, team = User.objects.get(pk=sc.dispatcher_id), Team.objects.get(pk=sc.team_id)
    return lambda: (
        board_get(user=user, day=sc.day, team=team),
        board_version(day=sc.day, team=team),
    )


def board_raw(sc: Scenario) -> Callable[[], object]:
    template = engines["django"].from_string(RAW_TEMPLATE)

    def run() -> str:
        with connection.cursor() as cursor:
            cursor.execute(RAW_TECHNICIANS, [sc.team_id])
            columns = {
                tid: {"id": tid, "name": name, "status": status, "calls": []}
                for tid, name, status in cursor.fetchall()
            }
            cursor.execute(RAW_CALLS, [sc.day, sc.team_id])
            unassigned = {"id": "unassigned", "name": "Unassigned", "status": "", "calls": []}
            for cid, tid, summary, prio, version, deadline, eta, risk, customer in cursor:
                card = {"id": cid, "summary": summary, "priority": prio, "version": version}
                card |= {"deadline": deadline, "eta": eta, "risk": risk, "customer": customer}
                columns.get(tid, unassigned)["calls"].append(card)
        return template.render({"columns": [unassigned, *columns.values()]})

    return run


# --- move ----------------------------------------------------------------------------------------


def next_move(sc: Scenario) -> tuple[int, int, int, int]:
    """(source technician, version, target technician, target position): always the other end."""
    tech_id, version = ServiceCall.objects.values_list("technician_id", "version").get(
        pk=sc.call_id
    )
    target = sc.ends[1] if tech_id == sc.ends[0][0] else sc.ends[0]
    return tech_id, version, *target


def move_http(client: Client, sc: Scenario) -> Callable[[], object]:
    _, version, tech, position = next_move(sc)
    data = {
        "call": sc.call_id,
        "technician": tech,
        "position": position,
        "expected_version": version,
        "confirm": "1",
        "day": sc.day.isoformat(),
        "team": sc.team_id,
    }

    def run():
        response = client.post("/board/move/", data, headers={"HX-Request": "true"})
        assert response.status_code == 200 and b"Moved call" in response.content, response
        return response

    return run


def move_service(sc: Scenario) -> Callable[[], object]:
    _, version, tech, position = next_move(sc)
    user = User.objects.get(pk=sc.dispatcher_id)

    def run():
        result = call_move(
            user=user,
            call_id=sc.call_id,
            technician_id=tech,
            position=position,
            expected_version=version,
        )
        assert result.applied
        return result

    return run


RAW_CLOSE_GAP = """
    UPDATE dispatch_servicecall SET position = position - 1
    WHERE technician_id = %s AND scheduled_day = %s AND position > %s
      AND status IN ('assigned', 'en_route', 'on_site')
"""
RAW_OPEN_GAP = """
    UPDATE dispatch_servicecall SET position = position + 1
    WHERE technician_id = %s AND scheduled_day = %s AND position >= %s
      AND status IN ('assigned', 'en_route', 'on_site')
"""


def move_raw(sc: Scenario) -> Callable[[], object]:
    """What the move is at its barest: lock, check, shift two queues, place the call, log it."""
    source, version, target, position = next_move(sc)
    payload = json.dumps(
        {"reason": "", "before": {"technician": source}, "after": {"technician": target}}
    )

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM technicians_technician WHERE id IN (%s, %s) ORDER BY id FOR UPDATE",
                sorted([source, target]),
            )
            cursor.execute(
                "SELECT position, version FROM dispatch_servicecall WHERE id = %s FOR UPDATE",
                [sc.call_id],
            )
            old, current = cursor.fetchone()
            assert current == version, "the raw move lost track of the version"
            cursor.execute(RAW_CLOSE_GAP, [source, sc.day, old])
            cursor.execute(RAW_OPEN_GAP, [target, sc.day, position])
            cursor.execute(
                "UPDATE dispatch_servicecall SET technician_id = %s, position = %s, "
                "version = version + 1, updated_at = now() WHERE id = %s",
                [target, position, sc.call_id],
            )
            raw_event_insert(
                cursor, call_id=sc.call_id, actor_id=sc.dispatcher_id, kind="moved", payload=payload
            )

    return run


# --- measuring -----------------------------------------------------------------------------------


def seconds(prepare: Prepare) -> float:
    run = prepare()
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def query_count(prepare: Prepare) -> int:
    run = prepare()
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries.captured_queries)


def medians(measures: dict[str, Prepare], runs: int) -> dict[str, tuple[float, int]]:
    """Median ms and query count of each measure; one untimed run each counts queries first."""
    counts = {name: query_count(prepare) for name, prepare in measures.items()}
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, prepare in measures.items():  # interleaved: noise hits every measure alike
            samples[name].append(seconds(prepare))
    return {name: (statistics.median(s) * 1000, counts[name]) for name, s in samples.items()}


def proc_status_mb() -> dict[str, float]:
    with open("/proc/self/status") as status:
        lines = [line.split() for line in status if line.startswith(("VmRSS", "VmHWM"))]
    return {parts[0].rstrip(":"): int(parts[1]) / 1024 for parts in lines}


def worker_memory(sc: Scenario) -> dict[str, float]:
    """In a fresh process: serve the board three times, like a web worker, and read its RSS."""
    started = proc_status_mb()["VmRSS"]
    client = Client()
    client.force_login(User.objects.get(pk=sc.dispatcher_id))
    for _ in range(3):
        board_http(client, sc)()
    after = proc_status_mb()
    connection.close()
    return {"started": started, "rss": after["VmRSS"], "peak": after["VmHWM"]}


# --- report --------------------------------------------------------------------------------------

Row = tuple[str, str, str, str, str, str, str, str]
HEADER: Row = ("scenario", "measure", "median ms", "raw ms", "ratio", "budget", "queries", "notes")


def ratio_cells(ms: float, raw: float, budget: float) -> tuple[str, str]:
    ratio = ms / raw
    return f"{ratio:.1f}x", f"{budget:g}x {'ok' if ratio <= budget else 'OVER'}"


def bench_scenario(sc: Scenario, runs: int) -> list[Row]:
    client = Client()
    client.force_login(User.objects.get(pk=sc.dispatcher_id))
    page = board_http(client, sc)()
    board = medians(
        {
            "http": lambda: board_http(client, sc),
            "timeline": lambda: timeline_http(client, sc),
            "selectors": lambda: board_selectors(sc),
            "raw": lambda: board_raw(sc),
        },
        runs,
    )
    move = medians(
        {
            "http": lambda: move_http(client, sc),
            "service": lambda: move_service(sc),
            "raw": lambda: move_raw(sc),
        },
        runs,
    )
    cards = page.content.count(b'<article class="card')
    columns = page.content.count(b'<section class="column')
    kb = len(page.content) / 1024
    verdict = "ok" if kb < 1024 else "OVER"
    size = f"html {kb:,.0f} KB (<1 MB {verdict}); {columns} columns, {cards} cards"
    (b_ms, b_q), (m_ms, m_q) = board["http"], move["http"]
    raw_b, raw_m = board["raw"], move["raw"]
    return [
        (sc.name, "board GET", f"{b_ms:.1f}", f"{raw_b[0]:.1f}", *ratio_cells(b_ms, raw_b[0], 3))
        + (str(b_q), size),
        (sc.name, "timeline GET", f"{board['timeline'][0]:.1f}", f"{raw_b[0]:.1f}")
        + ratio_cells(board["timeline"][0], raw_b[0], 3)
        + (str(board["timeline"][1]), "first page: 25 rows and the whole unassigned tray"),
        (sc.name, "  board_get+version", f"{board['selectors'][0]:.1f}", "", "", "")
        + (str(board["selectors"][1]), "selectors only: no HTTP, no template"),
        (sc.name, "  raw fetch+render", f"{raw_b[0]:.1f}", "", "", "", str(raw_b[1]), ""),
        (sc.name, "move POST", f"{m_ms:.1f}", f"{raw_m[0]:.1f}", *ratio_cells(m_ms, raw_m[0], 3))
        + (str(m_q), "htmx, confirm=1; answers with the team's columns"),
        (sc.name, "  call_move", f"{move['service'][0]:.1f}", f"{raw_m[0]:.1f}")
        + ratio_cells(move["service"][0], raw_m[0], 3)
        + (str(move["service"][1]), "service only: no HTTP, no render"),
        (sc.name, "  raw transaction", f"{raw_m[0]:.1f}", "", "", "", str(raw_m[1]), ""),
    ]


def print_table(rows: list[Row]) -> None:
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    for row in [HEADER, *rows]:
        cells = [
            cell.ljust(width) if i in (0, 1, 7) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs; medians are reported")
    parser.add_argument("--techs", type=int, default=60, help="technicians in the synthetic team")
    parser.add_argument("--calls", type=int, default=600, help="calls of the synthetic day")
    parser.add_argument("--skip-demo", action="store_true", help="only the synthetic fleet")
    args = parser.parse_args()

    began = time.perf_counter()
    name = database_prepare()
    print(
        f"database {name}, {args.runs} runs, median; Django {django.get_version()}, "
        f"DEBUG={settings.DEBUG}, {os.cpu_count()} CPUs"
    )
    rows: list[Row] = []
    if not args.skip_demo:
        data_wipe()
        rows += bench_scenario(demo_scenario(), args.runs)
    data_wipe()
    fleet = fleet_scenario(args.techs, args.calls)
    rows += bench_scenario(fleet, args.runs)
    connection.close()  # the child opens its own
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        worker = pool.apply(worker_memory, (fleet,))
    here = proc_status_mb()
    print_table(rows)
    print(
        f"memory, {fleet.name} board: fresh worker VmRSS {worker['rss']:.0f} MB after 3 renders "
        f"(peak {worker['peak']:.0f} MB, {worker['started']:.0f} MB at start; budget 150 MB "
        f"{'ok' if worker['rss'] < 150 else 'OVER'}); this process {here['VmRSS']:.0f} MB "
        f"(peak {here['VmHWM']:.0f} MB)"
    )
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
