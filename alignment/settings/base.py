"""Seam settings: one file, driven by the environment.

With nothing set, Seam runs on a SQLite file with Celery tasks executed in-process, so a
fresh clone works on a bare machine. Production differs only by environment variables:
DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, EMAIL_URL-style settings below.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from alignment.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (make run sets DEBUG=1 for you)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "alignment",
    "feedback",
    "roadmap",
    "cadences",
    "metrics",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "alignment.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "alignment.urls"
WSGI_APPLICATION = "alignment.wsgi.application"

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
                "alignment.context_processors.seam",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# DATABASE_URL is the connection the application uses. In production it names the
# application role (no table ownership, no BYPASSRLS); migrations run with DATABASE_URL
# pointing at the owner role instead (see README and docker-compose.yml).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# The role that post-migrate grants DML to and that row-level security is written for.
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "seam_app")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "alignment.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "root"
LOGOUT_REDIRECT_URL = "login"

# Sessions carry the user id in their own column so a deactivated member's sessions can be
# ended without scanning every session.
SESSION_ENGINE = "alignment.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Upload limits: CSV imports are read into memory up to this size.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
SEAM_IMPORT_MAX_BYTES = env_int("SEAM_IMPORT_MAX_BYTES", 20 * 1024 * 1024)

# --- Security ------------------------------------------------------------------------------
# Secure by default; a local http server (make run) sets DEBUG=1, which relaxes the
# https-only parts unless they are set explicitly.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL", not DEBUG) else None
)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# The CSRF token reaches htmx through the page (hx-headers), never through JavaScript
# reading the cookie, so the cookie can be HttpOnly too.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Everything is served from our own origin: no CDN, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# --- Email ---------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Seam <seam@localhost>")
# Absolute links in emails (invitations, notifications) start with this.
SEAM_BASE_URL = env_str("SEAM_BASE_URL", "http://127.0.0.1:8000")

# --- Celery --------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# With no broker configured, tasks run in-process at the point they are enqueued (always
# after commit, because services enqueue through transaction.on_commit).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# One schedule, in code. Every entry is a catch-up sweep that is safe at any frequency,
# none runs at minute 0, and each expires so a backlog of beats is not replayed.
CELERY_BEAT_SCHEDULE = {
    "resend-pending-notifications": {
        "task": "alignment.tasks.resend_pending_notifications_task",
        "schedule": crontab(minute="4-59/5"),
        "options": {"expires": 240},
    },
    "sweep-triage-sla": {
        "task": "feedback.tasks.sweep_triage_sla_task",
        "schedule": crontab(minute="2-59/5"),
        "options": {"expires": 240},
    },
    "sweep-escalation-breaches": {
        "task": "roadmap.tasks.sweep_escalation_breaches_task",
        "schedule": crontab(minute="3-59/5"),
        "options": {"expires": 240},
    },
    "send-monthly-roadmap-briefings": {
        "task": "roadmap.tasks.send_monthly_briefings_task",
        # Day 1 (and day 2 as a catch-up), every 4 hours: each organization gets its
        # briefing on the first run after its own midnight; dedupe keys keep it to one.
        "schedule": crontab(day_of_month="1,2", hour="1-23/4", minute="17"),
        "options": {"expires": 3600},
    },
    # Quarterly backlog purge (1 Jan/Apr/Jul/Oct): idempotent, so a repeat archives nothing.
    "purge-stale-backlog": {
        "task": "feedback.tasks.purge_backlog_task",
        "schedule": crontab(minute="23", hour="4", day_of_month="1", month_of_year="1,4,7,10"),
        "options": {"expires": 6 * 3600},
    },
    # Webhook retries live in the database (next_attempt_at); this sweep sends what is due.
    "redeliver-due-webhooks": {
        "task": "integrations.tasks.redeliver_due_webhooks_task",
        "schedule": crontab(minute="1-59"),
        "options": {"expires": 50},
    },
    # Idempotency-Key records are replayed for 24 hours; older ones are deleted hourly.
    "purge-idempotency-records": {
        "task": "integrations.tasks.purge_idempotency_records_task",
        "schedule": crontab(minute="37"),
        "options": {"expires": 3000},
    },
}

# --- Outgoing webhooks -----------------------------------------------------------------------
# https only in production; plain http is allowed with DEBUG for local receivers. Endpoints
# resolving to private, link-local or reserved addresses are always refused; loopback only
# when WEBHOOKS_ALLOW_LOOPBACK is set (tests, a receiver on the developer's machine).
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", default=False)

# --- Cache ---------------------------------------------------------------------------------
# The API's per-key rate limits count requests here: shared by every process through Redis
# in production, per process (locmem) on a bare machine.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- REST API (integrations/api/) ------------------------------------------------------------
# Every endpoint subclasses integrations.api.base.ApiViewSet, which fixes authentication (an
# organization API key), scope permissions, problem+json errors, rate limits and idempotency.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "integrations.api.pagination.ApiCursorPagination",
    "EXCEPTION_HANDLER": "integrations.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNICODE_JSON": True,
}
SEAM_API_MAX_BODY_BYTES = env_int("SEAM_API_MAX_BODY_BYTES", 256 * 1024)
SEAM_API_BULK_MAX_BODY_BYTES = env_int("SEAM_API_BULK_MAX_BODY_BYTES", 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Seam API",
    "DESCRIPTION": "The organization API of Seam: accounts from the CRM, feedback in, themes "
    "and the CS view of the roadmap out. See docs/api.md for authentication, scopes, errors, "
    "idempotency, ETags, pagination and rate limits.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ThemeStatusEnum": "feedback.models.ThemeStatus",
        "FeedbackStatusEnum": "feedback.api.serializers.FEEDBACK_STATUSES",
        "ReleaseStatusEnum": "roadmap.models.ReleaseStatus",
        "UpsertStatusEnum": "alignment.api.serializers.UPSERT_STATUSES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
