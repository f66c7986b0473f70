"""The irate customer, as the dispatcher and the technician live it, at 10:00 and at 22:30.

A customer rings: the technician on the way is late. The dispatcher signs in, finds the call by
the customer's phone number, opens Suggest and sends the least-ripple option. The technician is
already on the way, so the board asks them first; they answer "No, hand it over" on their phone
(a second browser context), the dispatcher sees the answer on the board and moves the call
without having to give a reason. At night the only one who can go is the technician on call.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from customers.models import Customer, Site
from dispatch.models import ServiceCall
from dispatch.services.etas import etas_refresh_day
from technicians.models import OnCallShift, TechAsk, Technician
from tests.browser.conftest import PHONE
from tests.conftest import DAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("hour", [(10, 0), (22, 30)], ids=["10:00", "22:30"])
def test_the_dispatcher_finds_suggests_asks_the_technician_first_and_moves(
    sign_in, clock_at, hour, dispatcher, tom, tina, otto, artifacts
):
    now = local(*hour)
    clock_at(now)
    night = hour[0] >= 18
    # At night only the technician on call may go, and only to an emergency.
    OnCallShift.objects.create(
        technician=tina,
        team=tina.team,
        starts_at=local(17),
        ends_at=local(17) + timedelta(hours=15),
        created_at=local(7),
    )
    ada = Customer.objects.create(name="Ada Byron", phone="312-555-0199", contract="full_service")
    home = Site.objects.create(customer=ada, address="20 Lake Shore Dr", lat=41.91, lng=-87.62)
    call = ServiceCall.objects.create(
        customer=ada,
        site=home,
        summary="No heat, baby at home",
        priority="emergency",
        duration_minutes=60,
        scheduled_day=DAY,
        technician=tom,
        position=0,
        status="en_route",
        en_route_at=now - timedelta(minutes=20),
        deadline=now + timedelta(minutes=45),
    )
    etas_refresh_day(day=DAY, now=now)

    office = sign_in(dispatcher, timeout=10_000)
    toms_phone = sign_in(tom.user, phone=True, timeout=15_000)  # open before the ask

    # Find the call by the number the customer rings from.
    office.fill("#find-q", "555-0199")
    office.press("#find-q", "Enter")
    office.locator(f"#found-{call.pk} a").click()
    expect(office.locator("h1")).to_contain_text(f"#{call.pk} No heat, baby at home")
    office.locator("#call-suggest").click()
    first = office.locator("table.candidates tbody tr").first
    expect(first).to_be_visible()
    chosen = first.locator("button.apply").get_attribute("data-apply")
    chosen_name = Technician.objects.get(pk=chosen).name
    if night:
        # Tina is on call; Otto's shift is over and he is not on call: only she is offered.
        expect(first).to_contain_text("Tina")
        expect(office.locator(".excluded")).to_contain_text("Otto")
    office.screenshot(path=artifacts / f"irate-suggest-{hour[0]}.png")
    first.locator("button.apply").click()

    # Tom is on the way: the board asks him first instead of going over his head.
    panel = office.locator("#confirm-panel")
    expect(panel.locator("#ask-state")).to_contain_text("Tom is already en route")
    office.screenshot(path=artifacts / f"irate-ask-first-{hour[0]}.png")
    panel.locator("#ask-tech").click()
    expect(office.locator(".notice.ok")).to_contain_text("Asked Tom")
    ask = TechAsk.objects.get(call=call)
    assert ask.status == "open" and ask.asked_by == dispatcher

    # His phone shows the question above his next call; one tap answers it.
    question = toms_phone.locator(f"#ask-{ask.pk}")
    expect(question).to_contain_text(f"Can you still make #{call.pk}")
    box = toms_phone.locator(f"#ask-{ask.pk} [data-answer=hand_over]").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    toms_phone.screenshot(path=artifacts / f"irate-phone-ask-{hour[0]}.png")
    toms_phone.locator(f"#ask-{ask.pk} [data-answer=hand_over]").click()
    expect(toms_phone.locator(".messages")).to_contain_text("Told the dispatcher")

    # The dispatcher's board shows the answer; sending again needs no reason now.
    office.goto(f"/board/?day={DAY.isoformat()}&view=columns")
    expect(office.locator(".alerts")).to_contain_text("Tom answered “No, hand it over”")
    office.goto(f"/calls/{call.pk}/suggest/")
    office.locator("table.candidates tbody tr").first.locator("button.apply").click()
    expect(panel.locator("#ask-state")).to_contain_text("No reason needed")
    expect(panel.locator("textarea[name=reason]")).to_have_count(0)
    panel.locator("#confirm-move").click()
    expect(office.locator(".notice.ok")).to_contain_text(f"Moved call #{call.pk} to {chosen_name}")

    moved = ServiceCall.objects.get(pk=call.pk)
    assert moved.technician_id == int(chosen) and moved.status == "assigned"
    kinds = list(call.events.values_list("kind", flat=True))
    assert kinds.index("ask_sent") < kinds.index("ask_answered") < kinds.index("moved")
    # Tom's phone refreshes by itself: the call is gone, and he is told why, in his words.
    expect(toms_phone.locator("#me-notices")).to_contain_text(
        "agreed when asked: “No, hand it over”"
    )
    expect(toms_phone.locator(f"#me-call-{call.pk}")).to_have_count(0)
    toms_phone.screenshot(path=artifacts / f"irate-phone-after-{hour[0]}.png")
