from django.urls import path

from dispatch import views

urlpatterns = [
    path("", views.home, name="home"),
    path("board/", views.board, name="board"),
    path("board/columns/", views.board_columns, name="board-columns"),
    path("board/move/", views.board_move, name="board-move"),
    path("calls/<int:call_id>/", views.call_detail, name="call-detail"),
    path("track/<str:token>/", views.track, name="track"),
    path("calls/<int:call_id>/escalate/", views.call_escalate_view, name="call-escalate"),
    path("calls/<int:call_id>/move/", views.call_move_form, name="call-move-form"),
    path("calls/<int:call_id>/suggest/", views.call_suggest, name="call-suggest"),
    path("board/swap/", views.board_swap, name="board-swap"),
]
