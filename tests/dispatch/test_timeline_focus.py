"""The timeline's `?focus=<call id>` (the map's "Show on the timeline"): the call's block, or its
tray card, drawn highlighted on the page that holds it; the poll and the pager keep it; a call
that is not on the board is said so; anything else in the parameter is no focus at all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dispatch.models import ServiceCall
from dispatch.selectors.timeline import ROWS_PER_PAGE, timeline_get
from tests.conftest import DAY, local, make_technician

pytestmark = pytest.mark.django_db

BOARD = f"/board/?day={DAY.isoformat()}&team=all"


@pytest.fixture(autouse=True)
def _morning_of_the_day(clock_at):
    clock_at(local(7, 30))


def _focused(html: str) -> list[str]:
    """The ids of the elements drawn highlighted."""
    return re.findall(r'class="[^"]*\btl-focus\b[^"]*"\s+id="call-(\d+)"', html)


def test_the_focused_block_is_highlighted_and_only_it(client, dispatcher, tom, make_call):
    other = make_call(tom, summary="Boiler")
    call = make_call(tom, summary="Radiator")
    client.force_login(dispatcher)
    html = client.get(f"{BOARD}&focus={call.pk}").content.decode()
    assert _focused(html) == [str(call.pk)]
    block = re.search(rf'<article [^>]*id="call-{call.pk}"[^>]*>', html).group(0)
    assert 'aria-current="true"' in block
    assert 'aria-current="true"' not in re.search(
        rf'<article [^>]*id="call-{other.pk}"[^>]*>', html
    ).group(0)
    # Without the parameter nothing is highlighted.
    assert _focused(client.get(BOARD).content.decode()) == []


def test_a_focused_unassigned_call_is_highlighted_in_the_tray(client, dispatcher, make_call):
    call = make_call(summary="Leak")
    client.force_login(dispatcher)
    html = client.get(f"{BOARD}&focus={call.pk}").content.decode()
    assert _focused(html) == [str(call.pk)]
    assert 'class="tl-focus-missing"' not in html


def test_the_focus_opens_the_page_holding_the_call_unless_a_page_is_named(
    client, dispatcher, north, make_call
):
    techs = [make_technician(f"t{i:02d}", north) for i in range(ROWS_PER_PAGE + 3)]
    call = make_call(techs[-1], summary="Far down")  # the 28th row: page 2
    client.force_login(dispatcher)
    html = client.get(f"{BOARD}&focus={call.pk}").content.decode()
    assert "Technicians 26–28 of 28" in html and _focused(html) == [str(call.pk)]
    # The poll and the pager carry the focus, so the highlight survives a live update.
    assert f"focus={call.pk}&amp;page=2" in html
    named = client.get(f"{BOARD}&focus={call.pk}&page=1").content.decode()
    assert "Technicians 1–25 of 28" in named and _focused(named) == []
    assert f"Call #{call.pk} is not on this board" in named
    timeline = timeline_get(
        user=dispatcher, day=DAY, team=None, now=local(7, 30), page=None, focus=call.pk
    )
    assert (timeline.page, timeline.focus, timeline.focus_missing) == (2, call.pk, None)


def test_the_poll_keeps_the_highlight(client, dispatcher, tom, make_call):
    call = make_call(tom)
    client.force_login(dispatcher)
    url = f"/board/columns/?view=timeline&day={DAY.isoformat()}&team=all&page=1&focus={call.pk}"
    assert _focused(client.get(url).content.decode()) == [str(call.pk)]


def test_a_focus_on_another_day_or_closed_says_it_is_not_here(client, dispatcher, tom, make_call):
    later = make_call(tom, scheduled_day=DAY + timedelta(days=1))
    done = make_call(tom, status=ServiceCall.Status.COMPLETED)
    client.force_login(dispatcher)
    for call in (later, done):
        response = client.get(f"{BOARD}&focus={call.pk}")
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Call #{call.pk} is not on this board" in html and _focused(html) == []


def test_a_focus_not_on_the_board_is_only_named_back_never_described(
    client, dispatcher, tom, make_call
):
    call = make_call(tom, summary="Secret summary", scheduled_day=DAY + timedelta(days=2))
    client.force_login(dispatcher)
    html = client.get(f"{BOARD}&focus={call.pk}").content.decode()
    assert "Secret summary" not in html


@pytest.mark.parametrize("raw", ["abc", "1e3", "-1", "9" * 10_000, "", "١٢", "9" * 12])
def test_a_focus_that_is_not_a_call_id_is_no_focus(client, dispatcher, tom, make_call, raw):
    make_call(tom)
    client.force_login(dispatcher)
    response = client.get(f"{BOARD}&focus={raw}")
    assert response.status_code == 200
    html = response.content.decode()
    assert _focused(html) == [] and 'class="tl-focus-missing"' not in html


def test_a_nul_in_the_focus_is_the_sites_400_in_words(client, dispatcher):
    client.force_login(dispatcher)
    response = client.get(f"{BOARD}&focus=1%00")
    assert response.status_code == 400 and response.content  # a message, not a 500
