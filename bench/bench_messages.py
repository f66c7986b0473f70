"""The customer-message sweep: what it costs every minute, and what a message costs to send.

Runs in the dedicated bench database like the other benches (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/dispatch_bench; created and migrated at start, wiped first).
One synthetic fleet of --techs x --calls (bench/fleet.py) on today, "now" at local noon, every
customer with an email address and a phone number, email and SMS to in-memory backends (so the
numbers are the product's own work, not a mail server's).

- **first sweeps**: every booking confirmation (the fleet was booked "just now"), delay notice
  and "still on it" due at once, planned and delivered; reported per message.
- **idle sweep**: the same minute again, when nothing is due: what the beat pays every minute
  in steady state. Baseline, interleaved run by run: **raw scan**, one SELECT of the ids of
  every open call through connection.cursor(), the least any sweep over open calls reads.
- **recompute**: etas_refresh_day for the same minute, the job the sweep runs beside.

    python bench/bench_messages.py [--runs 7] [--techs 200] [--calls 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DEBUG", "false")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["SMS_BACKEND"] = "customers.sms.LocmemSmsBackend"

import django

django.setup()

from django.conf import settings
from django.core import mail
from django.db import connection
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from bench.fleet import build_fleet, data_wipe, database_prepare
from customers import sms
from customers.messaging import customer_messages_sweep
from customers.models import Customer, CustomerMessage
from dispatch.models import ServiceCall
from dispatch.services.etas import etas_refresh_day

RAW_SCAN = (
    "SELECT id FROM dispatch_servicecall WHERE status IN ('new','assigned','en_route','on_site')"
)


class QueryCount:
    """Counts statements (CaptureQueriesContext keeps only the last 9,000)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def seconds(run) -> tuple[float, object]:
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


def drain(now: datetime) -> int:
    """Sweep until nothing is left (one run stops taking batches after DELIVER_SECONDS)."""
    sent = total = customer_messages_sweep(now=now)
    while sent:
        sent = customer_messages_sweep(now=now)
        total += sent
    return total


def raw_scan() -> int:
    with connection.cursor() as cursor:
        cursor.execute(RAW_SCAN)
        return len(cursor.fetchall())


def reachable_customers() -> None:
    email = Concat(Value("c"), Cast(F("id"), CharField()), Value("@example.com"))
    Customer.objects.update(email=email, phone=Value("+1 312 555 0100"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--techs", type=int, default=200)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    name = database_prepare()
    data_wipe()
    day = timezone.localdate()
    noon = datetime.combine(day, clock_time(12), ZoneInfo(settings.TIME_ZONE))
    built, _ = seconds(lambda: build_fleet(techs=args.techs, calls=args.calls, day=day, seed=1))
    reachable_customers()
    etas_refresh_day(day=day, now=noon)
    print(
        f"database {name}; fleet {args.techs}x{args.calls} built in {built:.1f} s; {args.runs} runs"
    )

    first_queries = QueryCount()
    with connection.execute_wrapper(first_queries):
        took, sent = seconds(lambda: drain(noon))
    kinds = dict(
        CustomerMessage.objects.values_list("kind").annotate(n=django.db.models.Count("id"))
    )
    print(
        f"first sweeps: {sent} sent ({len(mail.outbox)} email, {len(sms.outbox)} SMS) in "
        f"{took * 1000:.0f} ms = {took * 1000 / max(sent, 1):.2f} ms and "
        f"{first_queries.n / max(sent, 1):.1f} queries per message; rows by kind {kinds}"
    )

    idle, raw, recompute = [], [], []
    for run in range(args.runs):
        now = noon.replace(second=run + 1)  # same minute: nothing new is due
        idle_queries = QueryCount()
        with connection.execute_wrapper(idle_queries):
            t, again = seconds(lambda now=now: customer_messages_sweep(now=now))
        assert again == 0, f"an idle sweep sent {again}"
        idle.append(t)
        raw.append(seconds(raw_scan)[0])
        recompute.append(seconds(lambda now=now: etas_refresh_day(day=day, now=now))[0])
    open_calls = ServiceCall.objects.filter(status__in=ServiceCall.OPEN_STATUSES).count()
    med = {
        k: statistics.median(v) * 1000
        for k, v in [("idle", idle), ("raw", raw), ("rec", recompute)]
    }
    print(
        f"idle sweep over {open_calls} open calls: {med['idle']:.1f} ms median, "
        f"{idle_queries.n} queries"
    )
    print(
        f"  raw scan of open call ids: {med['raw']:.1f} ms median; "
        f"ratio {med['idle'] / med['raw']:.1f}x"
    )
    print(
        f"  etas_refresh_day, same minute: {med['rec']:.1f} ms median; the idle sweep is "
        f"{100 * med['idle'] / med['rec']:.0f}% of it"
    )


if __name__ == "__main__":
    main()
