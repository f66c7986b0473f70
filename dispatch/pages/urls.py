"""Every HTML page's URL, in the order they are matched: the manager's desk, the dashboard, the
booking page, then the board, calls and the customer's tracking page."""

from django.urls import path

from dispatch.pages import (
    board,
    board_events,
    board_map,
    board_moves,
    booking,
    call_edit,
    calls,
    dashboard,
    desk,
    find,
    plans,
    rota,
    timeline,
    tracking,
    week,
)

# Names live under "pages:". The API keeps the resource names (call-detail, plan-detail...); a
# page is "-page" and a page's form post "-form", so no name means two things
# (tests/test_url_names.py).
app_name = "pages"

urlpatterns = [
    # The manager's desk
    path("escalations/", desk.escalation_queue, name="escalation-queue"),
    path(
        "escalations/<int:escalation_id>/",
        desk.escalation_detail,
        name="escalation-page",
    ),
    path(
        "escalations/<int:escalation_id>/resolve/",
        desk.escalation_resolve_view,
        name="escalation-resolve-form",
    ),
    # The dashboard
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    # The on-call rota (nights and weekends): managers set it
    path("rota/", rota.rota, name="rota"),
    path("rota/<int:shift_id>/remove/", rota.rota_remove, name="rota-remove"),
    path("reports/concessions/", dashboard.concessions, name="report-concessions"),
    # Booking
    path("book/", booking.book, name="book"),
    # The board, calls and tracking
    path("", board.home, name="home"),
    path("board/", timeline.board_page, name="board"),
    path("board/columns/", timeline.board_poll, name="board-columns"),
    path("board/events/", board_events.board_events, name="board-events"),
    path("board/map/", board_map.board_map, name="board-map"),
    path("board/move/", board_moves.board_move, name="board-move"),
    path("board/ask/", board_moves.board_ask, name="board-ask"),
    path("board/week/move/", week.week_move, name="board-week-move"),
    path("calls/find/", find.call_find, name="call-find"),
    path("calls/<int:call_id>/", calls.call_detail, name="call-page"),
    path("track/<str:token>/", tracking.track, name="track"),
    path("calls/<int:call_id>/escalate/", calls.call_escalate_view, name="call-escalate-form"),
    path("calls/<int:call_id>/move/", calls.call_move_form, name="call-move-form"),
    path("calls/<int:call_id>/edit/", call_edit.call_edit, name="call-edit"),
    path("calls/<int:call_id>/cancel/", call_edit.call_cancel_view, name="call-cancel-form"),
    path("calls/<int:call_id>/suggest/", calls.call_suggest, name="call-suggest"),
    path("board/swap/", board_moves.board_swap, name="board-swap"),
    # Plan the day
    path("board/plan/", plans.plan_start, name="plan-start"),
    path("board/plan/<int:plan_id>/", plans.plan_detail, name="plan-page"),
    path("board/plan/<int:plan_id>/apply/", plans.plan_apply_view, name="plan-apply-form"),
    path("board/plan/<int:plan_id>/discard/", plans.plan_discard_view, name="plan-discard"),
]
