"""The one settings module. Everything that differs between machines comes from the environment.

With nothing set, OKRSignal runs on its embedded default: an SQLite file under ``var/`` and Celery tasks
executed in-process. Production sets ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``; with ``DEBUG`` off it
also requires a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``. ``.env.example`` documents every variable.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from okrsignal.env import env_bool, env_int, env_list, env_optional, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", default=False)

_DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789abcdef"  # noqa: S105
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
else:
    SECRET_KEY = env_str("SECRET_KEY", required=True)
    if SECRET_KEY == _DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be a random value of at least 50 characters when DEBUG is off."
        )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names)."
        )

SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "simple_history",
    "okrsignal",
    "goals",
    "signals_ingest",
    "alignment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that a locked-out attempt is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves its collected static files itself; in development runserver serves them.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "okrsignal.urls"
WSGI_APPLICATION = "okrsignal.wsgi.application"

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
                "okrsignal.context_processors.organization",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
_database_url = env_optional("DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(_database_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "okrsignal.sqlite3")}
    }
    # The signals' index by time also carries actor and weight on PostgreSQL, so that a week's sums read the
    # index alone; SQLite builds it on its key columns, which is all the embedded demo needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------------------------------
REDIS_URL = env_optional("REDIS_URL")
# The cache may live in its own Redis database, so that clearing it can never touch queued tasks.
CACHE_URL = env_optional("CACHE_URL") or REDIS_URL
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Without a broker the tasks run in-process, in the caller's thread: the embedded default needs no worker.
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by kind of work (see okrsignal/celery.py); a task not listed runs on "default".
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {
    "signals_ingest.tasks.process_raw_event_task": {"queue": "webhooks"},
    "signals_ingest.tasks.process_raw_events_task": {"queue": "webhooks"},
    "signals_ingest.tasks.resolve_hubspot_notifications_task": {"queue": "webhooks"},
    "signals_ingest.tasks.reapply_mapping_rules_task": {"queue": "sync"},
    "signals_ingest.tasks.process_pending_raw_events_everywhere": {"queue": "sync"},
    "signals_ingest.tasks.expire_signal_texts_everywhere": {"queue": "sync"},
    "signals_ingest.tasks.sync_integration": {"queue": "sync"},
    "signals_ingest.tasks.sync_all_integrations": {"queue": "sync"},
    "signals_ingest.tasks.reconcile_integrations": {"queue": "sync"},
    "alignment.tasks.score_pending_goals": {"queue": "scoring"},
    "alignment.tasks.score_goals": {"queue": "scoring"},
    "alignment.tasks.rescore_everywhere": {"queue": "scoring"},
    "alignment.tasks.rescore_organization": {"queue": "scoring"},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Periodic work (run by `celery beat`); each task iterates the organisations and sets each tenant itself.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "expire-signal-texts": {
        "task": "signals_ingest.tasks.expire_signal_texts_everywhere",
        "schedule": 60 * 60,
    },
    "process-pending-raw-events": {
        "task": "signals_ingest.tasks.process_pending_raw_events_everywhere",
        "schedule": 5 * 60,
    },
    # Pull syncs take what webhooks missed; the daily reconciliation re-reads a wider span at a quiet hour.
    "sync-integrations": {
        "task": "signals_ingest.tasks.sync_all_integrations",
        "schedule": 15 * 60,
    },
    "reconcile-integrations": {
        "task": "signals_ingest.tasks.reconcile_integrations",
        "schedule": crontab(hour=3, minute=40),
    },
    # On the quarter hour, so that a check-in time of 10:00 is reminded at 10:00 (goals.checkin_reminders).
    "check-in-reminders": {
        "task": "goals.tasks.check_in_reminders_dispatch_everywhere",
        "schedule": crontab(minute="*/15"),
    },
    # Every goal of every live cycle recomputed at a quiet hour, besides the scoring changes trigger.
    "drift-nightly-recompute": {
        "task": "alignment.tasks.rescore_everywhere",
        "schedule": crontab(hour=2, minute=20),
    },
    # The weekly drift digest is due Monday 08:00 in each organisation's time zone (some are offset by a
    # quarter or half hour from UTC): the beat looks every quarter hour.
    "drift-digests": {
        "task": "alignment.tasks.drift_digests_dispatch_everywhere",
        "schedule": crontab(minute="*/15"),
    },
}

# Changes (signals, check-ins, goal edits) are scored together once this many seconds have passed since
# the first of them (alignment.triggers): a burst of activity queues one scoring task per organisation.
DRIFT_SCORING_DEBOUNCE_SECONDS = env_int("DRIFT_SCORING_DEBOUNCE_SECONDS", 30)
if DRIFT_SCORING_DEBOUNCE_SECONDS < 1:
    raise ImproperlyConfigured(
        f"DRIFT_SCORING_DEBOUNCE_SECONDS must be at least 1, not {DRIFT_SCORING_DEBOUNCE_SECONDS}."
    )

# The parts a 1:1 agenda adds after the report's own check-ins (goals.checkin_selectors), by dotted path
# to a section builder: the drift engine's findings on the report's goals.
ONE_ON_ONE_AGENDA_SECTIONS = ["alignment.agenda.drift_findings_section"]

# --- People -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "okrsignal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 7)

# --- Goals ------------------------------------------------------------------------------------------
# A KPI reading that moves more than this share from the previous one asks for a comment (percent).
KPI_LARGE_MOVE_SHARE = env_int("KPI_LARGE_MOVE_PERCENT", 20) / 100

# Lock out a (username, address) pair, never a username alone: someone guessing passwords from
# elsewhere must not be able to lock a real person out of their own account.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The sign-in form posts the e-mail address as "username"; lockouts are keyed on it, lower-cased.
AXES_USERNAME_CALLABLE = "okrsignal.audit.login_identifier"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Behind a TLS proxy every request comes from the proxy's address: name how many proxies sit in front so
# the client's own address (from X-Forwarded-For) keys the lockout and the audit log, never the proxy's.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# ipware counts the proxies listed inside X-Forwarded-For; the nearest proxy appears only as REMOTE_ADDR.
AXES_IPWARE_PROXY_COUNT = max(TRUSTED_PROXY_COUNT - 1, 0)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)

# --- Execution signals (Jira, Slack, HubSpot) -------------------------------------------------------
# Fernet keys that encrypt integration credentials at rest, comma-separated: the first encrypts, every one
# decrypts, so a new key goes first and the old one stays until `manage.py rotate_integration_keys` has
# re-encrypted everything. Deliberately separate from SECRET_KEY. In DEBUG with none set, a fixed
# development key is derived (signals_ingest.crypto says so in a warning); with DEBUG off one is required.
INTEGRATION_ENCRYPTION_KEYS = env_list("INTEGRATION_ENCRYPTION_KEYS")
for _encryption_key in INTEGRATION_ENCRYPTION_KEYS:
    try:
        Fernet(_encryption_key)
    except (ValueError, TypeError):
        # The value itself is never repeated: it is a secret.
        raise ImproperlyConfigured(
            "INTEGRATION_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded"
            ' bytes). Generate one with: python -c "from cryptography.fernet import Fernet;'
            ' print(Fernet.generate_key().decode())"'
        ) from None
if not INTEGRATION_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "INTEGRATION_ENCRYPTION_KEYS is required when DEBUG is off (comma-separated Fernet keys, the first"
        ' encrypts). Generate one with: python -c "from cryptography.fernet import Fernet;'
        ' print(Fernet.generate_key().decode())"'
    )
# Message and comment text kept with a signal is cut to this many characters, and blanked this many days
# after the activity it records (the signal and its counts stay).
SIGNAL_TEXT_MAX_CHARS = env_int("SIGNAL_TEXT_MAX_CHARS", 280)
SIGNAL_TEXT_RETENTION_DAYS = env_int("SIGNAL_TEXT_RETENTION_DAYS", 90)
# Requests per minute each organisation may send to each vendor (signals_ingest.rate_limit), below the
# vendors' own limits so that their 429s stay the exception: HubSpot's search allows 5 per second per
# account, Slack's history methods are Tier 3 (about 50 per minute), Jira Cloud's budget is cost-based.
VENDOR_REQUESTS_PER_MINUTE = {
    "jira": env_int("JIRA_REQUESTS_PER_MINUTE", 300),
    "slack": env_int("SLACK_REQUESTS_PER_MINUTE", 50),
    "hubspot": env_int("HUBSPOT_REQUESTS_PER_MINUTE", 240),
}
# Attempts per vendor request when it meets a 429, a 5xx or a network failure (1 = never retry), and the
# seconds one request may take.
VENDOR_REQUEST_MAX_ATTEMPTS = env_int("VENDOR_REQUEST_MAX_ATTEMPTS", 5)
VENDOR_REQUEST_TIMEOUT_SECONDS = env_int("VENDOR_REQUEST_TIMEOUT_SECONDS", 30)
# Pull syncs (signals_ingest.sync): each re-reads this many minutes before its cursor (clock skew, Jira's
# minute-precise JQL); the daily reconciliation re-reads this many hours; a first sync reads this many
# days back. A sync delivery whose worker was lost more than SYNC_MAX_REDELIVERIES times is abandoned and
# recorded as failed on the integration, rather than redelivered for ever.
SYNC_OVERLAP_MINUTES = env_int("SYNC_OVERLAP_MINUTES", 10)
SYNC_RECONCILE_OVERLAP_HOURS = env_int("SYNC_RECONCILE_OVERLAP_HOURS", 48)
SYNC_BACKFILL_DAYS = env_int("SYNC_BACKFILL_DAYS", 90)
SYNC_MAX_REDELIVERIES = env_int("SYNC_MAX_REDELIVERIES", 3)
for _name, _value in {
    "SYNC_OVERLAP_MINUTES": SYNC_OVERLAP_MINUTES,
    "SYNC_RECONCILE_OVERLAP_HOURS": SYNC_RECONCILE_OVERLAP_HOURS,
    "SYNC_BACKFILL_DAYS": SYNC_BACKFILL_DAYS,
    "SYNC_MAX_REDELIVERIES": SYNC_MAX_REDELIVERIES,
}.items():
    if _value < 0:
        raise ImproperlyConfigured(f"{_name} must be 0 or more, not {_value}.")
# Where HubSpot's API lives (Jira's address is each site's own). Fixed in production; the tests point it
# at a local fake of HubSpot.
HUBSPOT_API_URL = "https://api.hubapi.com"
# Where the Slack Web API lives; only a test double or a proxy would change it.
SLACK_API_URL = env_str("SLACK_API_URL", default="https://slack.com/api/")
# The "Add to Slack" install (OAuth v2) of OKRSignal's own Slack app, offered when all three are set;
# without them an admin connects Slack with a bot token and signing secret of their own app instead.
# The signing secret is the app's, and is stored with each workspace installed through it.
SLACK_CLIENT_ID = env_str("SLACK_CLIENT_ID", default="")
SLACK_CLIENT_SECRET = env_str("SLACK_CLIENT_SECRET", default="")
SLACK_SIGNING_SECRET = env_str("SLACK_SIGNING_SECRET", default="")
SLACK_OAUTH_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
# "Connect with HubSpot" (OAuth 2.0) through OKRSignal's own HubSpot public app, offered when both are set;
# without them an admin connects HubSpot with a private app's token. The code exchange and every token
# renewal go to HUBSPOT_API_URL (``/oauth/v1/token``). The addresses below are fixed in production (the
# client secret must never be sent anywhere else); the tests point them at local fakes of the vendors.
HUBSPOT_OAUTH_CLIENT_ID = env_str("HUBSPOT_OAUTH_CLIENT_ID", default="")
HUBSPOT_OAUTH_CLIENT_SECRET = env_str("HUBSPOT_OAUTH_CLIENT_SECRET", default="")
HUBSPOT_OAUTH_AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
# "Connect with Atlassian" (OAuth 2.0 three-legged) through OKRSignal's own Atlassian app, offered when both
# are set; without them an admin connects Jira with an account e-mail and an API token.
JIRA_OAUTH_CLIENT_ID = env_str("JIRA_OAUTH_CLIENT_ID", default="")
JIRA_OAUTH_CLIENT_SECRET = env_str("JIRA_OAUTH_CLIENT_SECRET", default="")
JIRA_OAUTH_AUTHORIZE_URL = "https://auth.atlassian.com/authorize"
JIRA_OAUTH_TOKEN_URL = "https://auth.atlassian.com/oauth/token"  # noqa: S105 - an address, not a secret
# Where the sites an authorisation reaches are listed, and through which (``/ex/jira/<cloud id>``) an app
# connected with OAuth calls Jira's REST API.
JIRA_OAUTH_API_URL = "https://api.atlassian.com"
_vendor_counts = {
    f"{provider.upper()}_REQUESTS_PER_MINUTE": n for provider, n in VENDOR_REQUESTS_PER_MINUTE.items()
}
_vendor_counts["VENDOR_REQUEST_MAX_ATTEMPTS"] = VENDOR_REQUEST_MAX_ATTEMPTS
_vendor_counts["VENDOR_REQUEST_TIMEOUT_SECONDS"] = VENDOR_REQUEST_TIMEOUT_SECONDS
for _name, _value in _vendor_counts.items():
    if _value < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1, not {_value}.")

# --- E-mail -----------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="OKRSignal <okrsignal@localhost>")

# --- API --------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # An API token first, so that a request offering a bad one is answered 401 with a Bearer challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "okrsignal.api_tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "okrsignal.api_tokens.ApiTokenScopeAllowsMethod",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OKRSignal API",
    "DESCRIPTION": "Objectives, key results, check-ins and drift findings, per organisation.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API description is public; every endpoint it describes still requires a member of the organisation.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The interactive docs load Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Describing the API must not query: tenant-scoped managers refuse to run with no organisation.
    "DEFAULT_QUERY_MANAGER": "_base_manager",
    # Group operations by what they are about (objectives, key results…) rather than by the URL prefix.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+/o/\{org_slug\}",
    "ENUM_NAME_OVERRIDES": {
        "ObjectiveStateEnum": "goals.models.ObjectiveState",
        "ObjectiveStartingStateEnum": "goals.serializers.STARTING_STATES",
        "KeyResultStatusEnum": "goals.models.KeyResultStatus",
    },
}

# --- Security ---------------------------------------------------------------------------------------
# htmx is configured (see base.html) to need neither inline styles nor eval, so the policy allows neither.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ----------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain" if DEBUG else "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
