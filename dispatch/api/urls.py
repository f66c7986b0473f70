from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.views import TokenView
from dispatch.api import (
    advice,
    asks,
    background,
    booking,
    calls,
    escalations,
    history,
    moves,
    my_day,
    plans,
    reference,
)

router = DefaultRouter()
router.register("customers", reference.CustomerViewSet, basename="customer")
router.register("sites", reference.SiteViewSet, basename="site")
router.register("skills", reference.SkillViewSet, basename="skill")
router.register("technicians", reference.TechnicianViewSet, basename="technician")
router.register("calls", calls.CallViewSet, basename="call")

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("status/", background.BackgroundStatusView.as_view(), name="background-status"),
    path(
        "technicians/<int:pk>/status/",
        reference.TechnicianStatusView.as_view(),
        name="technician-status",
    ),
    path("calls/<int:pk>/move/", moves.CallMoveView.as_view(), name="call-move"),
    path(
        "calls/<int:pk>/move/preview/",
        moves.CallMovePreviewView.as_view(),
        name="call-move-preview",
    ),
    path("calls/<int:pk>/cancel/", calls.CallCancelView.as_view(), name="call-cancel"),
    path("calls/<int:pk>/candidates/", advice.CallCandidatesView.as_view(), name="call-candidates"),
    path("calls/<int:pk>/rescue/", advice.CallRescueView.as_view(), name="call-rescue"),
    path("calls/<int:pk>/send-now/", advice.CallSendNowView.as_view(), name="call-send-now"),
    path("calls/<int:pk>/swap/", advice.CallSwapView.as_view(), name="call-swap"),
    path("calls/<int:pk>/escalate/", escalations.CallEscalateView.as_view(), name="call-escalate"),
    path("escalations/", escalations.EscalationListView.as_view(), name="escalations"),
    path(
        "escalations/<int:pk>/resolve/",
        escalations.EscalationResolveView.as_view(),
        name="escalation-resolve",
    ),
    path("calls/<int:pk>/events/", history.CallEventListView.as_view(), name="call-events"),
    path("bookings/", booking.BookingCreateView.as_view(), name="booking-create"),
    path("bookings/offers/", booking.BookingOffersView.as_view(), name="booking-offers"),
    path(
        "bookings/turned-away/", booking.TurnedAwayCreateView.as_view(), name="booking-turned-away"
    ),
    path("capacity/", booking.CapacityView.as_view(), name="capacity"),
    path("plans/", plans.PlanCreateView.as_view(), name="plan-create"),
    path("plans/<int:pk>/", plans.PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<int:pk>/apply/", plans.PlanApplyView.as_view(), name="plan-apply"),
    path("calls/<int:pk>/status/", my_day.CallStatusView.as_view(), name="call-status"),
    path("calls/<int:pk>/claim/", my_day.CallClaimView.as_view(), name="call-claim"),
    path("calls/<int:pk>/handoff/", my_day.CallHandoffView.as_view(), name="call-handoff"),
    path("calls/<int:pk>/asks/", asks.CallAskListView.as_view(), name="call-asks"),
    path("asks/", asks.AskListView.as_view(), name="asks"),
    path("asks/<int:pk>/answer/", asks.AskAnswerView.as_view(), name="ask-answer"),
    path("handoffs/", my_day.HandoffListView.as_view(), name="handoffs"),
    path("handoffs/<int:pk>/accept/", my_day.HandoffAcceptView.as_view(), name="handoff-accept"),
    path("handoffs/<int:pk>/decline/", my_day.HandoffDeclineView.as_view(), name="handoff-decline"),
    path(
        "handoffs/<int:pk>/withdraw/",
        my_day.HandoffWithdrawView.as_view(),
        name="handoff-withdraw",
    ),
    path(
        "calls/<int:pk>/messages/",
        history.CallCustomerMessageListView.as_view(),
        name="call-customer-messages",
    ),
    path("", include(router.urls)),
]
