"""Settings, all from the environment (12-factor). SQLite by default, PostgreSQL via DATABASE_URL."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent


def _read_env_file() -> None:
    """Read ``.env`` (or the file ``ENV_FILE`` names; ``ENV_FILE=`` for none) into the environment,
    so ``make``, ``manage.py``, gunicorn and Celery all see one configuration. Variables already
    in the environment win. pytest reads none unless ENV_FILE names one: a developer's file must
    not change what the tests run against."""
    given = os.environ.get("ENV_FILE")
    if given is None and os.environ.get("PYTEST_VERSION"):
        return
    path = Path(given) if given is not None else BASE_DIR / ".env"
    if given == "":
        return
    if not path.is_file():
        if given is not None:
            raise ImproperlyConfigured(f"ENV_FILE={given}: no such file.")
        return
    load_dotenv(path, override=False)


_read_env_file()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-secret-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (in the environment or in .env; "
                               "see docs/operations.md).")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]
# Production behind HTTPS (docs/operations.md): HTTPS=true turns on secure cookies, the redirect to
# https and HSTS; each one can still be set on its own by the variable of its name.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
# Load balancers probe over plain HTTP: the health check answers there instead of redirecting.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
# The whole domain is HTTPS-only and may be preloaded; set these to false for a shared parent domain.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)


def _proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """``X-Forwarded-Proto: https`` (the default behind a TLS-terminating proxy) → Django's form."""
    name, _, value = raw.partition(":")
    if not name.strip() or not value.strip():
        return None
    return "HTTP_" + name.strip().upper().replace("-", "_"), value.strip()


# Trust the proxy's header only behind a proxy that sets it (and strips it from clients).
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(
    os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https" if HTTPS else ""))
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "csp",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "catalog",
    "customers",
    "carts",
    "sales",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RejectNulQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "config.urls"
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
            ],
        },
    },
]
WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections: opening one costs more than most of our queries.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing with "database is locked": every transaction takes the
    # write lock when it begins (BEGIN IMMEDIATE), so two writers queue for up to `timeout` seconds
    # instead of both reading and then one failing to upgrade its lock (SQLite's deadlock answer).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

# Content-Security-Policy (SPEC §16): everything from this origin; scripts only from files (or an
# inline one carrying the request's nonce); never framed. Inline style attributes stay allowed:
# Django's admin templates use them, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}

AUTH_USER_MODEL = "accounts.User"
# SPEC §2. createsuperuser, changepassword and the admin's user and password forms run these;
# the user model has `name`, not Django's default first_name / last_name.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "name")}},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
# One date format on every admin page (SPEC §14): config/formats/en/formats.py.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# E-mail: console in development, SMTP when EMAIL_HOST is set; tests use locmem.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if os.environ.get("EMAIL_HOST") else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Order Desk <orders@example.com>")
if os.environ.get("EMAIL_FILE_PATH"):  # for EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
# A mail server that hangs is given up on after this many seconds (Django's default waits forever).
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
# Customer e-mails are sent by a task after the commit; a failed send is retried after each of these
# delays (seconds), then noted as email_failed in the order's history.
EMAIL_RETRY_SCHEDULE = os.environ.get("EMAIL_RETRY_SCHEDULE", "60,300,1800")

# Store settings.
BASE_CURRENCY = os.environ.get("BASE_CURRENCY", "USD")
STORE_COUNTRY = os.environ.get("STORE_COUNTRY", "US")
STORE_NAME = os.environ.get("STORE_NAME", "Order Desk Demo Store")
# Absolute base of links sent to customers (checkout pages, e-mails) and of `make run`'s banner;
# by default the local server on the port it serves (`make run PORT=8081` passes PORT).
PUBLIC_BASE_URL = (os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}").rstrip("/")

# Login throttling (SPEC §2).
LOGIN_MAX_FAILURES_PER_EMAIL = 5
LOGIN_MAX_FAILURES_PER_IP = 20
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.StaffModelPermissions", "config.request_checks.RequestChecks"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.request_checks.ContentNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    # SPEC §5: timestamps are ISO 8601 in UTC with at least millisecond precision. DRF's default
    # (isoformat) drops the fraction when it is zero ("…T10:00:00Z", e.g. an imported order's
    # ordered_at), so a sync client comparing strings would see two precisions: always six places.
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "PAGE_SIZE": 50,
}

REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(hours=float(os.environ.get("API_TOKEN_TTL_HOURS", "10"))),
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Order Desk API",
    "DESCRIPTION": (
        "Order-management back office: catalog, customers, draft carts (Create Order), orders and their "
        "lifecycle. Every error has the body {code, message, errors[{field, code, message}]}."
    ),
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/admin",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.openapi.add_idempotency_header",
                            "config.openapi.document_every_status"],
    "ENUM_NAME_OVERRIDES": {"DocStateEnum": "sales.models.order.DocState"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Django's own loggers print through the root's handler only (Django's default also gives
    # them a console handler of their own, and every line came out twice).
    # fpdf's font subsetting (fontTools) logs every glyph at INFO: a worker at -l info drowned in it.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}, "fontTools": {"level": "WARNING"}},
}


# Background work (SPEC §13): Celery. With CELERY_BROKER_URL (redis://… or amqp://…) tasks go to the
# workers (`make worker`); without it they run in-process, sent right after the commit.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is handed to another one (the outbox is the safety net)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def _seconds_list(raw: str) -> tuple[float, ...]:
    return tuple(float(x) for x in raw.split(",") if x.strip())


# Webhooks (SPEC §13).
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", DEBUG)
WEBHOOK_RETRY_SCHEDULE = _seconds_list(os.environ.get("WEBHOOK_RETRY_SCHEDULE", "60,300,1800,7200,21600,43200,86400,172800"))
WEBHOOK_RETENTION_DAYS = int(os.environ.get("WEBHOOK_RETENTION_DAYS", "14"))
WEBHOOK_FAILED_RETENTION_DAYS = int(os.environ.get("WEBHOOK_FAILED_RETENTION_DAYS", "30"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# An attempt holds its delivery this long; a worker killed mid-attempt leaves it to be retried after.
WEBHOOK_LEASE_SECONDS = float(os.environ.get("WEBHOOK_LEASE_SECONDS", "60"))
WEBHOOK_DISABLE_AFTER_FAILURES = int(os.environ.get("WEBHOOK_DISABLE_AFTER_FAILURES", "50"))
WEBHOOK_SWEEP_SECONDS = float(os.environ.get("WEBHOOK_SWEEP_SECONDS", "15"))  # how often beat looks for due retries

# Unpaid orders expire (SPEC §12): a gateway order left unpaid this long is canceled (0 = never).
UNPAID_ORDER_TTL_MINUTES = int(os.environ.get("UNPAID_ORDER_TTL_MINUTES", "4320"))
UNPAID_ORDER_SWEEP_SECONDS = float(os.environ.get("UNPAID_ORDER_SWEEP_SECONDS", "300"))  # how often beat looks

# Import jobs (SPEC §13): the largest upload kept, and the documents written per transaction (the
# job's progress is saved after each).
IMPORT_JOB_MAX_BYTES = int(os.environ.get("IMPORT_JOB_MAX_BYTES", str(100 * 1024 * 1024)))
IMPORT_JOB_BATCH = int(os.environ.get("IMPORT_JOB_BATCH", "500"))
# A job is split into chunks of this many documents, each a task any worker can take: the chunks of
# one large upload are imported by several workers at once.
IMPORT_JOB_CHUNK = int(os.environ.get("IMPORT_JOB_CHUNK", "5000"))
# A running chunk that has not saved a batch for this long lost its worker and is resumed.
IMPORT_JOB_STALE_SECONDS = float(os.environ.get("IMPORT_JOB_STALE_SECONDS", "300"))
IMPORT_JOB_SWEEP_SECONDS = float(os.environ.get("IMPORT_JOB_SWEEP_SECONDS", "60"))  # how often beat looks for them
# The bulk import checks and locks its rows' foreign-key parents itself, one query per table, and
# skips PostgreSQL's per-row foreign-key triggers for those inserts, where the role may (superuser,
# or `GRANT SET ON PARAMETER session_replication_role TO <role>` on PostgreSQL 15+; README).
BULK_SKIP_FK_TRIGGERS = env_bool("BULK_SKIP_FK_TRIGGERS", True)

CELERY_BEAT_SCHEDULE = {
    "webhooks-retry-due": {"task": "webhooks.retry_due", "schedule": WEBHOOK_SWEEP_SECONDS},
    "webhooks-purge": {"task": "webhooks.purge", "schedule": 3600.0},
    "idempotency-keys-purge": {"task": "accounts.idempotency_keys_purge", "schedule": 3600.0},
    "sales-expire-unpaid-orders": {"task": "sales.expire_unpaid_orders", "schedule": UNPAID_ORDER_SWEEP_SECONDS},
    "sales-import-jobs-resume": {"task": "sales.import_jobs_resume", "schedule": IMPORT_JOB_SWEEP_SECONDS},
}
