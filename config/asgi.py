"""The ASGI entry point (uvicorn: `make run`, compose's web service). It serves every page and
the boards' live stream (`/board/events/`, an async view: docs/scaling.md, "Pushed updates").

Under ASGI Django runs each request's synchronous part in a thread of its own (asgiref's
ThreadSensitiveContext), so a database connection kept for the next request would be left behind
in a thread that has ended. Here connections live ASGI_DATABASE_CONN_MAX_AGE seconds (default 0:
closed after each request), as Django advises under ASGI; PgBouncer in front pools them.
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before the first connection is made, so every connection of this process is made with it.
settings.DATABASES["default"]["CONN_MAX_AGE"] = settings.ASGI_DATABASE_CONN_MAX_AGE
application = get_asgi_application()
