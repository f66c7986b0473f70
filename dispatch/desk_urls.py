from django.urls import path

from dispatch import desk_views

urlpatterns = [
    path("escalations/", desk_views.escalation_queue, name="escalation-queue"),
    path(
        "escalations/<int:escalation_id>/",
        desk_views.escalation_detail,
        name="escalation-detail",
    ),
    path(
        "escalations/<int:escalation_id>/resolve/",
        desk_views.escalation_resolve_view,
        name="escalation-resolve",
    ),
]
