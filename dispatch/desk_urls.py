from django.urls import path  # noqa: F401

from dispatch import desk_views  # noqa: F401

urlpatterns: list = []
