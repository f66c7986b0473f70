from django.urls import path

from dispatch import booking_views

urlpatterns = [
    path("book/", booking_views.book, name="book"),
]
