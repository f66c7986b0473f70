from django.urls import path

from technicians import views

app_name = "tech"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/version/", views.me_version, name="me-version"),
    path("me/location/", views.me_location, name="me-location"),
    path("me/calls/<int:call_id>/status/", views.me_call_status, name="me-call-status"),
    path("me/calls/<int:call_id>/move/", views.me_call_move, name="me-call-move"),
    path("me/calls/<int:call_id>/claim/", views.me_call_claim, name="me-call-claim"),
    path("me/calls/<int:call_id>/handoff/", views.me_handoff, name="me-handoff"),
    path(
        "me/calls/<int:call_id>/handoff/offer/",
        views.me_handoff_offer,
        name="me-handoff-offer",
    ),
    path("me/asks/<int:ask_id>/answer/", views.me_ask_answer, name="me-ask-answer"),
    path("me/offers/<int:offer_id>/accept/", views.me_offer_accept, name="me-offer-accept"),
    path("me/offers/<int:offer_id>/decline/", views.me_offer_decline, name="me-offer-decline"),
    path("me/offers/<int:offer_id>/withdraw/", views.me_offer_withdraw, name="me-offer-withdraw"),
]
