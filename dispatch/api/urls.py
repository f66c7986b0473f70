from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.views import TokenView
from dispatch.api import views

router = DefaultRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("sites", views.SiteViewSet, basename="site")
router.register("skills", views.SkillViewSet, basename="skill")
router.register("technicians", views.TechnicianViewSet, basename="technician")
router.register("calls", views.CallViewSet, basename="call")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("status/", views.BackgroundStatusView.as_view(), name="background-status"),
    path(
        "technicians/<int:pk>/status/",
        views.TechnicianStatusView.as_view(),
        name="technician-status",
    ),
    path("calls/<int:pk>/move/", views.CallMoveView.as_view(), name="call-move"),
    path(
        "calls/<int:pk>/move/preview/",
        views.CallMovePreviewView.as_view(),
        name="call-move-preview",
    ),
    path("calls/<int:pk>/cancel/", views.CallCancelView.as_view(), name="call-cancel"),
    path("calls/<int:pk>/candidates/", views.CallCandidatesView.as_view(), name="call-candidates"),
    path("calls/<int:pk>/escalate/", views.CallEscalateView.as_view(), name="call-escalate"),
    path("escalations/", views.EscalationListView.as_view(), name="escalations"),
    path(
        "escalations/<int:pk>/resolve/",
        views.EscalationResolveView.as_view(),
        name="escalation-resolve",
    ),
    path("calls/<int:pk>/events/", views.CallEventListView.as_view(), name="call-events"),
    path("", include(router.urls)),
]
