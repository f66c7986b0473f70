from django.urls import path

from dispatch import dashboard_views

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("reports/concessions/", dashboard_views.concessions, name="report-concessions"),
]
