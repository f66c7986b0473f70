from django.urls import path

from dispatch import views

urlpatterns = [
    path("", views.home, name="home"),
]
