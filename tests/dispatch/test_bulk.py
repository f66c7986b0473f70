"""rows_update writes exactly the values given, of every type a queue row carries, in one
statement; flagged fields only where flagged, counters added (never a lost update)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.models import ServiceCall
from dispatch.services.bulk import rows_update
from tests.conftest import local

pytestmark = pytest.mark.django_db

FIELDS = ["position", "eta", "slack_minutes", "risk", "overtime", "p_late", "scheduled_day"]


def stored(call_id: int) -> tuple:
    return ServiceCall.objects.values_list(*FIELDS).get(pk=call_id)


def test_every_type_round_trips_in_one_statement(make_call, tom):
    a, b = make_call(tom, position=0), make_call(tom, position=1)
    # A timestamp in another zone with microseconds, a negative float, a None, a new day.
    eta_a = local(10, 7).astimezone(ZoneInfo("Asia/Kolkata")) + timedelta(microseconds=123456)
    rows = [
        (a.pk, 5, eta_a, -12.25, "late", True, 0.875, date(2026, 3, 11)),
        (b.pk, 4, None, None, "ok", False, None, date(2026, 3, 10)),
    ]
    with CaptureQueriesContext(connection) as queries:
        assert rows_update(ServiceCall, FIELDS, rows) == 2
    assert len(queries) == 1
    assert stored(a.pk) == (5, eta_a, -12.25, "late", True, 0.875, date(2026, 3, 11))
    assert stored(b.pk) == (4, None, None, "ok", False, None, date(2026, 3, 10))


def test_flagged_fields_change_only_on_the_flagged_row_and_counters_add(make_call, tom, tina):
    a, b = make_call(tom, position=0), make_call(tom, position=1)
    ServiceCall.objects.filter(pk=b.pk).update(reschedule_count=3)
    rows = [
        # (pk, position, technician (flagged), flag, reschedule_count (added))
        (a.pk, 1, tina.pk, True, 1),
        (b.pk, 0, tina.pk, False, 2),
    ]
    rows_update(
        ServiceCall, ["position"], rows, flagged=["technician_id"], added=["reschedule_count"]
    )
    got = dict(ServiceCall.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "technician_id"))
    assert got == {a.pk: tina.pk, b.pk: tom.pk}
    assert ServiceCall.objects.get(pk=a.pk).position == 1
    assert ServiceCall.objects.get(pk=b.pk).reschedule_count == 5
    assert ServiceCall.objects.get(pk=a.pk).reschedule_count == 1


def test_a_value_too_long_for_its_column_is_refused_not_cut(make_call, tom):
    from django.db import DataError, transaction

    a = make_call(tom, position=0)
    with pytest.raises(DataError), transaction.atomic():
        rows_update(ServiceCall, ["risk"], [(a.pk, "x" * 40)])
    assert ServiceCall.objects.get(pk=a.pk).risk == a.risk
