"""Four CSRs taking the last window of the day at once: one gets it, the others hear it is gone."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import time

import pytest
from django.db import connection

from common.errors import MoveConflict
from dispatch.models import ServiceCall
from dispatch.services.booking import (
    BookingNeed,
    CallDetails,
    WindowChoice,
    booking_book,
    booking_offers,
)
from tests.conftest import DAY, local

CSRS = 4
NOW = local(7, 30)


@pytest.mark.django_db(transaction=True)
def test_the_last_window_goes_to_exactly_one_of_four_csrs_booking_at_once(
    csr, north, tom, skills, customer, site
):
    tom.shift_start, tom.shift_end = time(8), time(9, 30)  # room for one 60-minute call today
    tom.save()
    need = BookingNeed((site.lat, site.lng), frozenset({"plumbing"}), 60, "normal")
    offers = booking_offers(user=csr, team=north, need=need, now=NOW)
    today = [o for o in offers.offers if o.day == DAY]
    assert len(today) == 1
    key = today[0].key
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(CSRS)

    def book(i: int) -> None:
        try:
            start.wait()
            booking_book(
                user=csr,
                team=north,
                customer=customer,
                site=site,
                details=CallDetails(f"Leak {i}", duration_minutes=60, skills=(skills["plumbing"],)),
                choice=WindowChoice(offer_key=key, technician_id=tom.pk),
                now=NOW,
            )
            result = "booked"
        except MoveConflict:
            result = "gone"
        except Exception as exc:  # anything else is a failure of the protocol
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=book, args=(i,)) for i in range(CSRS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == Counter({"booked": 1, "gone": CSRS - 1}), outcomes
    call = ServiceCall.objects.get()
    assert call.technician_id == tom.pk and not call.overtime and call.risk == "ok"
