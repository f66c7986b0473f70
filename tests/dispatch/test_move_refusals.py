"""The move's refusals in the words a person reads (dispatch/services/moves/checks.py), through
the service: which error, which field, which sentence. Found by `make mutate TARGET=moves`: the
tests that checked only the status let any wording, or none, through."""

from __future__ import annotations

import pytest

from common.errors import InvalidInput, MoveConflict, NotAllowed
from dispatch.services.moves import call_move

pytestmark = pytest.mark.django_db


def attempt(user, call, technician, position=0, version=None, **extra):
    return call_move(
        user=user,
        call_id=call.pk,
        technician_id=None if technician is None else technician.pk,
        position=position,
        expected_version=call.version if version is None else version,
        **extra,
    )


@pytest.mark.parametrize("position", [None, True, False, 1.0, "1"])
def test_a_position_that_is_not_a_whole_number_is_refused_on_its_field(
    dispatcher, tom, make_call, position
):
    call = make_call()
    with pytest.raises(InvalidInput) as refused:
        attempt(dispatcher, call, tom, position)
    assert refused.value.field == "position"
    assert str(refused.value) == "Give the queue position as a whole number, 0 for first."


def test_a_stale_version_says_someone_else_changed_the_call(dispatcher, tom, make_call):
    call = make_call(summary="Leaking pipe")
    with pytest.raises(MoveConflict) as refused:
        attempt(dispatcher, call, tom, version=call.version + 1)
    assert str(refused.value) == (
        f"Someone else changed call #{call.pk} (Leaking pipe) while you were looking. "
        "The board has been refreshed; check the call and try again."
    )


def test_only_a_dispatcher_or_manager_takes_a_call_from_a_technician_under_way(
    csr, tom, tina, make_call
):
    call = make_call(tom, status="en_route")
    with pytest.raises(NotAllowed) as refused:
        attempt(csr, call, tina, reason="van broke down")
    assert str(refused.value) == (
        "Tom is already en route for this call; only a dispatcher or manager can take it away."
    )


def test_a_csr_moves_only_calls_not_yet_started(csr, tom, tina, make_call):
    call = make_call(tom, status="on_site")
    with pytest.raises(NotAllowed) as refused:
        attempt(csr, call, tom, position=0)  # not taking it: reordering Tom's own queue
    assert str(refused.value) == ("A CSR can move only unassigned calls and calls not yet started.")


def test_a_negative_position_is_refused_on_its_field(dispatcher, tom, make_call):
    call = make_call()
    with pytest.raises(InvalidInput) as refused:
        attempt(dispatcher, call, tom, -1)
    assert refused.value.field == "position"
    assert str(refused.value) == "The queue position cannot be negative; 0 is first."
