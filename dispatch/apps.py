from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"

    def ready(self) -> None:
        from dispatch.auth import connect_signals

        connect_signals()  # a cached signed-in user is dropped whenever it changes
