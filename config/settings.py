"""One settings module for every environment; environments differ only by variables.

Every variable is documented in `.env.example`. With DATABASE_URL / REDIS_URL unset the product
runs on SQLite with background work in-process, so a fresh machine needs Python alone.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# No default secret outside DEBUG: a production deploy without one must fail loudly.
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "accounts",
    "customers",
    "technicians",
    "dispatch",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL in a path, query string or page form is a 400 with a message, not a 500 from the
    # database (dispatch/request_guards.py); before anything reads the session.
    "dispatch.request_guards.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so its process_exception sees a view's database errors first: 503, not 500.
    "dispatch.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "technicians.context_processors.nav",
                "common.context_processors.demo_clock",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Connections are reused across requests (a new one per request costs more than a whole move)
# and checked before reuse, so a restarted PostgreSQL needs no restart of web or worker processes.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Under uvicorn (config/asgi.py) each request runs in a thread of its own, so a kept connection
# would be stranded when the thread ends: this instead (0, a new one per request; pool with
# PgBouncer).
ASGI_DATABASE_CONN_MAX_AGE = env.int("ASGI_DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails the request fast (libpq's minimum is 2 s).
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=2
    )
# Behind PgBouncer in transaction mode (DATABASE_POOLER=pgbouncer) a server connection belongs to
# a client for one transaction only: Django's server-side cursors (.iterator() outside a
# transaction uses a WITH HOLD cursor) would be fetched on a connection that never declared
# them, so they are turned off. psycopg2 never prepares statements; everything session-scoped the
# app does is transaction-scoped (docs/scaling.md "PgBouncer").
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured("DATABASE_POOLER must be empty or 'pgbouncer'")
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLER == "pgbouncer"
# A read replica (docs/scaling.md "A read replica"): the board, reports and API lists read from
# it (common/db_router.py); writes, transactions and every read for REPLICA_PIN_SECONDS after a
# write in the same session use the primary. Unset: one database, no router.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=5)
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    replica = env.db_url_config(DATABASE_REPLICA_URL)
    for key in ("ATOMIC_REQUESTS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        replica[key] = DATABASES["default"][key]
    replica["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    replica.setdefault("OPTIONS", {}).update(DATABASES["default"].get("OPTIONS", {}))
    # Tests create no second database: the replica alias reads the test database.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = replica
    DATABASE_ROUTERS = ["common.db_router.ReplicaRouter"]
    # After the URL is resolved: marks the requests that may read from the replica.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "common.db_router.ReplicaReadsMiddleware",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# The lockout gate refuses throttled accounts and addresses before any password is checked; then
# a ModelBackend whose session user comes with its roles in one query (dispatch/auth.py).
# Sessions signed in through django.contrib.auth.backends.ModelBackend before it sign in again.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutGate",
    "dispatch.auth.RoleAwareBackend",
]
# Throttling by growing delays, never a long lockout (accounts/services.py): after the free
# failures each further one makes the next sign-in wait, doubling from the first delay up to
# the cap; failures are forgotten after the window.
LOGIN_FREE_FAILURES_PER_ACCOUNT = env.int("LOGIN_FREE_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FREE_FAILURES_PER_ADDRESS = env.int("LOGIN_FREE_FAILURES_PER_ADDRESS", default=20)
LOGIN_DELAY_FIRST_SECONDS = env.int("LOGIN_DELAY_FIRST_SECONDS", default=5)
LOGIN_DELAY_MAX_SECONDS = env.int("LOGIN_DELAY_MAX_SECONDS", default=300)
LOGIN_FAILURE_WINDOW_MINUTES = env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=60)
# How many reverse proxies of ours stand in front (each appends to X-Forwarded-For); 0 ignores it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# An API token is refused this many days after it was issued; POST /api/v1/auth/token/ then
# issues a new one (accounts/tokens.py).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "pages:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Dates and times print day first and 24-hour ("Wed 11 Mar 09:00") wherever a template leaves the
# format out: config/formats/en/formats.py overrides Django's US-style English output formats.
FORMAT_MODULE_PATH = ["config.formats"]
# Stored times are UTC; TIME_ZONE is the company's local time, used for shifts and display.
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # DRF's token authentication with an expiry (accounts/tokens.py).
        "accounts.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's defaults, with JSON nesting bounded (a 1,000-deep body was a 500).
    "DEFAULT_PARSER_CLASSES": [
        "dispatch.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "dispatch.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dispatch.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dispatch board API",
    "DESCRIPTION": "Customers, technicians and service calls of a field service dispatch board.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "dispatch.api.schema.document_error_responses",
    ],
    # Calls and technicians both have a `status` with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "CallStatusEnum": "dispatch.models.ServiceCall.Status",
        "TechnicianStatusEnum": "technicians.models.Technician.Status",
        # Booking (issue 8): a booked call's priority (emergency comes from the safety
        # checklist) and why a caller was turned away, named apart from their neighbours.
        "PriorityEnum": "dispatch.models.ServiceCall.Priority",
        "BookingPriorityEnum": ["normal", "high", "low"],
        "ReasonEnum": "dispatch.models.Escalation.Reason",
        "TurnedAwayReasonEnum": "dispatch.models.TurnedAwayCall.Reason",
        "PlanStatusEnum": "dispatch.models.DayPlan.Status",
    },
}

# Pushed board updates (`/board/events/`, served under ASGI: uvicorn; docs/scaling.md). The
# stream LISTENs on PostgreSQL; LISTEN needs a session of its own, so behind PgBouncer in
# transaction mode point LISTEN_DATABASE_URL straight at PostgreSQL (default: DATABASE_URL).
LISTEN_DATABASE_URL = env.str("LISTEN_DATABASE_URL", default="")
# A comment line this often keeps proxies from closing an idle stream (and finds dead clients).
BOARD_STREAM_HEARTBEAT_SECONDS = env.float("BOARD_STREAM_HEARTBEAT_SECONDS", default=20.0)

# Background work. Without REDIS_URL tasks run in-process (eagerly), so the product works with
# Python alone; with it, Celery workers on Redis do the work.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker reserves one task at a time: the day's recompute is a few dozen long team parts, and a
# worker holding four of them while the others idle would undo the split (issue 17).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# A broker that is down must not hang a request: fail fast, log, and let the beat heal.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
# The shared cache: sessions and the signed-in user (with roles) are read from it instead of
# PostgreSQL on every request. CACHE_URL defaults to REDIS_URL; with neither, a per-process
# memory cache and database sessions (a memory cache cannot be invalidated across processes).
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.cache.ForgivingRedisCache",
            "LOCATION": CACHE_URL,
            # Per database: user ids of two databases sharing a Redis never meet.
            "KEY_PREFIX": env.str(
                "CACHE_KEY_PREFIX", default=f"dispatch:{DATABASES['default']['NAME']}"
            ),
            # A down Redis costs a request at most these timeouts: reads then miss (the
            # database answers) and writes are dropped.
            "OPTIONS": {
                "socket_connect_timeout": 0.5,
                "socket_timeout": 0.5,
                "retry": Retry(NoBackoff(), 0),
            },
        }
    }
    # Read from the cache, written through to the database: a Redis restart signs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Seconds a signed-in user (with roles) stays cached; every change to the user or its groups
# invalidates it at once (dispatch/auth.py), so this only bounds a missed invalidation.
USER_CACHE_SECONDS = env.int("USER_CACHE_SECONDS", default=300)
# Workers and beat keep Celery's reconnecting defaults (they come back by themselves when Redis
# does); the web side publishes over its own connection with no retries and no publish retry
# (dispatch/services/background.py `enqueue`), so a down broker costs a request at most ~1 s.
# A last successful recompute older than this shows "background updates delayed" on the board.
BACKGROUND_DELAY_MINUTES = env.int("BACKGROUND_DELAY_MINUTES", default=2)

# The ETA model (docs/design.md, "ETA semantics").
RISK_MARGIN_MINUTES = env.int("RISK_MARGIN_MINUTES", default=30)
TRAVEL_CIRCUITY = env.float("TRAVEL_CIRCUITY", default=1.3)
TRAVEL_SPEED_KMH = env.float("TRAVEL_SPEED_KMH", default=40.0)
# "great_circle" (roads: km x circuity / speed) or "plane" (coordinates on a flat plane, travel =
# distance x TRAVEL_PLANE_SECONDS_PER_UNIT; how the published Solomon benchmarks are loaded).
TRAVEL_PROVIDER = env.str("TRAVEL_PROVIDER", default="great_circle")
TRAVEL_PLANE_SECONDS_PER_UNIT = env.float("TRAVEL_PLANE_SECONDS_PER_UNIT", default=60.0)
# A technician's last known location older than this is not trusted; home base is used instead.
LOCATION_FRESH_MINUTES = env.int("LOCATION_FRESH_MINUTES", default=30)
# A committed move that shifts a promised ETA by more than this counts as a reschedule.
PROMISE_TOLERANCE_MINUTES = env.int("PROMISE_TOLERANCE_MINUTES", default=15)
# Another call whose ETA a change moves later by more than this is part of the ripple shown
# (and, when its ETA was promised, the change needs confirming).
RIPPLE_SHIFT_MINUTES = env.int("RIPPLE_SHIFT_MINUTES", default=15)
RECOMPUTE_BATCH_SIZE = env.int("RECOMPUTE_BATCH_SIZE", default=200)

# Risk as a probability (docs/planning.md "Risk as a probability"). A job's real length is its
# estimate x a log-normal ratio learned nightly per category (and per technician, shrunk toward
# the category by DURATION_PRIOR_CALLS pseudo-calls); with no history the ratio's log has mean 0
# and these spreads. A queued call is at risk when P(late) is above RISK_P_AT_RISK; booking
# offers a window only where P(arriving inside it) is at least BOOKING_CONFIDENCE.
DURATION_DEFAULT_SIGMA = env.float("DURATION_DEFAULT_SIGMA", default=0.35)
TRAVEL_DEFAULT_SIGMA = env.float("TRAVEL_DEFAULT_SIGMA", default=0.25)
DURATION_PRIOR_CALLS = env.int("DURATION_PRIOR_CALLS", default=10)
RISK_P_AT_RISK = env.float("RISK_P_AT_RISK", default=0.3)
BOOKING_CONFIDENCE = env.float("BOOKING_CONFIDENCE", default=0.8)

# The day planner ("Plan the day"): the solver's default time limit, and what a plan pays for, in
# minutes of driving: taking a call from the technician who has it, breaking a kept promise, and
# (per minute) overtime, allowed up to PLAN_MAX_OVERTIME_MINUTES; whether the drive home counts.
PLAN_SECONDS = env.int("PLAN_SECONDS", default=10)
PLAN_MOVE_COST_MINUTES = env.float("PLAN_MOVE_COST_MINUTES", default=30.0)
PLAN_PROMISE_COST_MINUTES = env.float("PLAN_PROMISE_COST_MINUTES", default=60.0)
PLAN_OVERTIME_COST = env.float("PLAN_OVERTIME_COST", default=2.0)
PLAN_MAX_OVERTIME_MINUTES = env.int("PLAN_MAX_OVERTIME_MINUTES", default=120)
PLAN_DRIVE_HOME = env.bool("PLAN_DRIVE_HOME", default=True)

# Booking (the CSR's page): the share of each day's working minutes kept for emergencies (normal
# bookings may not use it), the length of an offered arrival window, and when a team's backlog
# alert rises for projected lateness (open calls of today projected late, at least this many).
EMERGENCY_RESERVE_PERCENT = env.int("EMERGENCY_RESERVE_PERCENT", default=15)
BOOKING_WINDOW_MINUTES = env.int("BOOKING_WINDOW_MINUTES", default=120)
BACKLOG_LATE_THRESHOLD = env.int("BACKLOG_LATE_THRESHOLD", default=3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# HTTPS hardening, driven by the environment so `make run` and the tests keep plain http while a
# deploy behind TLS turns it on with HTTPS=true (each part can still be set on its own; see
# .env.example). `manage.py check --deploy` is clean with HTTPS=true, SECURE_HSTS_PRELOAD=true.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
# Preloading is a promise to browsers that is slow to take back: opt in explicitly.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (only then: the header is spoofable).
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Readable by scripts: the Swagger UI's "Try it out" sends the token from the cookie.
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    "models.W038"
]  # SQLite (demo) has no deferrable unique constraints; PostgreSQL enforces it

# The beat's minute-by-minute schedule is built from the task objects: config/beat.py.

# A technician's offer of a call to a teammate lapses after this many minutes unanswered.
HANDOFF_OFFER_MINUTES = env.int("HANDOFF_OFFER_MINUTES", default=15)
# How long a technician on the way has to answer "can you still make it?" before the dispatcher
# may take the call with a reason anyway.
TECH_ASK_MINUTES = env.int("TECH_ASK_MINUTES", default=5)

# Auto-escalation rules (each opens at most one escalation per call while it is open).
ESCALATE_AT_RISK_AFTER_MINUTES = env.int("ESCALATE_AT_RISK_AFTER_MINUTES", default=15)
ESCALATE_EMERGENCY_UNASSIGNED_MINUTES = env.int("ESCALATE_EMERGENCY_UNASSIGNED_MINUTES", default=10)
# How long a call may wait, by priority, before it comes up for review.
AGING_HOURS = {
    "emergency": env.float("AGING_HOURS_EMERGENCY", default=1),
    "high": env.float("AGING_HOURS_HIGH", default=4),
    "normal": env.float("AGING_HOURS_NORMAL", default=24),
    "low": env.float("AGING_HOURS_LOW", default=72),
}
# The escalation desk lists low-priority calls left open longer than this for review.
STALE_LOW_PRIORITY_DAYS = env.int("STALE_LOW_PRIORITY_DAYS", default=3)

# Customer messages (customers/messaging.py). Email goes through Django's email backend; SMS
# through SMS_BACKEND (customers/sms.py). Development prints both to the console; production
# sets EMAIL_BACKEND/EMAIL_HOST and an SMS backend of its provider.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent_emails"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="service@dispatch.example.com")
# Without a provider configured, SMS are not sent (recorded as skipped, with the reason).
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="customers.sms.ConsoleSmsBackend" if DEBUG else "customers.sms.DisabledSmsBackend",
)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "sent_sms"))
# Which channels a customer is messaged on (each where the customer has an address for it).
CUSTOMER_MESSAGE_CHANNELS = env.list("CUSTOMER_MESSAGE_CHANNELS", default=["email", "sms"])
# Links in messages point here (the tracking page); no request to build them from in a worker.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
# A delay notice goes out when the ETA is later than the promised window by more than this, and
# again each time the ETA slips this much further than the last notice said.
CUSTOMER_DELAY_NOTICE_MINUTES = env.int("CUSTOMER_DELAY_NOTICE_MINUTES", default=15)
# With a deadline, the first notice also goes out as soon as the chance of arriving after it
# (p_late) is at least this, though the ETA may still be inside the promise: the customer hears
# while the call is likely to miss it, not after. Above RISK_P_AT_RISK on purpose: the office is
# warned at "at risk" and may still save the call; the customer hears at "more likely than not".
CUSTOMER_DELAY_NOTICE_P_LATE = env.float("CUSTOMER_DELAY_NOTICE_P_LATE", default=0.5)
# With a promised ETA but no deadline, the promise means "by this many minutes after it".
CUSTOMER_PROMISE_WINDOW_MINUTES = env.int("CUSTOMER_PROMISE_WINDOW_MINUTES", default=30)
# "We are still on it" after a call has waited this long, and again after each further wait.
CUSTOMER_STILL_ON_IT_MINUTES = env.int("CUSTOMER_STILL_ON_IT_MINUTES", default=120)
# A channel that fails is retried on later sweeps, 1, 2, 4 ... minutes apart, this many times.
CUSTOMER_MESSAGE_MAX_ATTEMPTS = env.int("CUSTOMER_MESSAGE_MAX_ATTEMPTS", default=5)
# The tracking link stops working this long after the call is completed or cancelled.
TRACKING_LINK_HOURS_AFTER_DONE = env.float("TRACKING_LINK_HOURS_AFTER_DONE", default=24)

# Addresses (customers/geocoding/): a Nominatim-compatible search service, with the offline
# street list of the demo city as the fallback. Empty URL: offline only.
GEOCODER_URL = env.str("GEOCODER_URL", default="")
GEOCODER_USER_AGENT = env.str("GEOCODER_USER_AGENT", default="dispatch-board/1.0 (ops@example.com)")
GEOCODER_TIMEOUT_SECONDS = env.float("GEOCODER_TIMEOUT_SECONDS", default=3.0)

# The demo's clock (common/clock.py): minutes added to real time everywhere the product asks
# for "now", so `make run` at night shows a company mid-day. 0 = real time; never set in
# production. scripts/run.sh sets it from `manage.py demo_clock`.
DEMO_CLOCK_OFFSET_MINUTES = env.int("DEMO_CLOCK_OFFSET_MINUTES", default=0)

# The board's map (/board/map/): where its tiles come from ({z}/{x}/{y}, Leaflet's pattern) and
# the credit the tile server asks for. Empty URL: no tiles (offline, tests); markers and routes
# still draw on a plain background. The page's Content-Security-Policy admits this one host.
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")
