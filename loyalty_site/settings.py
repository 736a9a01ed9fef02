"""Settings for the loyalty portal.

One module. Every value that differs between a laptop and production comes from
the environment (or a `.env` file beside manage.py) through django-environ; the
defaults are the embedded development set-up that `make run` uses: SQLite and
Celery's filesystem broker, so nothing needs a server.
"""

import datetime as dt
import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from loyalty_site.databases import postgres_tune, replica_config
from loyalty_site.queues import DEFAULT_QUEUE, QUEUES, TASK_ROUTES
from loyalty_site.secret_key import (
    DEVELOPMENT_KEY,
    secret_key_advice,
    secret_key_problem,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = Path(environ.Env().str("LOYALTY_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The default is for DEBUG=1 only (make run, make seed). With DEBUG off a
# placeholder, short or repetitive key stops the process here, before it signs a
# session or a reset link; `check --deploy` says the same (loyalty_site.checks).
# The test suite runs with DEBUG off and no key: pytest (8.2+) sets PYTEST_VERSION
# in its process and in the processes its tests start, and nowhere else.
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_KEY)
if (
    not DEBUG
    and "PYTEST_VERSION" not in os.environ
    and (_key_problem := secret_key_problem(SECRET_KEY))
):
    raise ImproperlyConfigured(secret_key_advice(_key_problem))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Staff-written content in every language (translation.py per app); it
    # must come before the admin to patch the admin's forms.
    "modeltranslation",
    "loyalty_site.apps.LoyaltyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "members",
    "rewards",
    "campaigns",
    "analytics",
    # Above the apps: the deploy checks (loyalty_site/checks.py) and the demo
    # data (seed_demo), which no app imports.
    "loyalty_site.apps.LoyaltySiteConfig",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Every response under /api/ is JSON in the API's error shape.
    "loyalty_site.api_errors.ApiErrorMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Where a visitor came from (UTM), kept until the online sign-up.
    "members.middleware.FirstTouchMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, the policy built once (loyalty_site/csp.py).
    "loyalty_site.csp.CSPMiddleware",
    # Last, as django-axes requires: turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "loyalty_site.urls"
WSGI_APPLICATION = "loyalty_site.wsgi.application"
ASGI_APPLICATION = "loyalty_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "members.context_processors.loyalty",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# An empty DATABASE_URL (or EMAIL_URL) means "not set": the embedded default.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR / 'db.sqlite3'}"
    )
}
_PGBOUNCER = env.bool("PGBOUNCER", default=False)
_CONN_AGE = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
    # timeout instead of failing with "database is locked" half-way through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # PGBOUNCER=1: through PgBouncer in transaction mode (docs/operations.md).
    postgres_tune(DATABASES["default"], pgbouncer=_PGBOUNCER, conn_max_age=_CONN_AGE)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A streaming replica for the reads that may lag (loyalty_site/db_router.py);
# unset: no `replica` alias. After a browser's POST its reads stay on the
# primary for REPLICA_PIN_SECONDS.
REPLICA_DATABASE_URL = env.str("REPLICA_DATABASE_URL", default="")
REPLICA_PIN_SECONDS = env.float("REPLICA_PIN_SECONDS", default=5.0)
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = replica_config(
        env.db_url_config(REPLICA_DATABASE_URL),
        pgbouncer=env.bool("REPLICA_PGBOUNCER", default=_PGBOUNCER),
        conn_max_age=_CONN_AGE,
    )
    DATABASE_ROUTERS = ["loyalty_site.db_router.ReplicaRouter"]
    MIDDLEWARE.insert(1, "loyalty_site.db_router.ReadYourWritesMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.User"
# django-axes first: it refuses a locked-out username+IP before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "members.auth.EmailOrUsernameBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:home"

# Brute-force protection of the customer and admin logins (django-axes): 5 wrong
# passwords for one username from one address lock that pair for 15 minutes.
# Attempts live in the database, so every gunicorn worker sees them.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "members/login_locked.html"

# --- Languages --------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="uk")
LANGUAGES = [
    ("uk", _("Ukrainian")),
    ("ru", _("Russian")),
    ("ro", _("Romanian")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Staff-written content (django-modeltranslation): one column per language; a
# text missing in the reader's language is shown in the program's default
# language, then in the others in the order above. The one fallback order.
MODELTRANSLATION_DEFAULT_LANGUAGE = LANGUAGE_CODE
MODELTRANSLATION_FALLBACK_LANGUAGES = {
    "default": tuple(
        dict.fromkeys([LANGUAGE_CODE, *(code for code, _name in LANGUAGES)])
    )
}
# Django's own date formats say what members.formatting says: one form a language.
FORMAT_MODULE_PATH = ["loyalty_site.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Kyiv")
USE_I18N = True
USE_TZ = True

# --- Loyalty program defaults (the live values are ProgramSettings in admin) -
LOYALTY_CURRENCY = env.str("LOYALTY_CURRENCY", default="UAH")
LOYALTY_PHONE_REGION = env.str("LOYALTY_PHONE_REGION", default="UA")
LOYALTY_CARD_PREFIX = env.str("LOYALTY_CARD_PREFIX", default="27")
LOYALTY_OTP_TTL_MINUTES = env.int("LOYALTY_OTP_TTL_MINUTES", default=10)
# Complaints open longer than this are highlighted in the staff queue.
LOYALTY_COMPLAINT_OVERDUE_HOURS = env.int("LOYALTY_COMPLAINT_OVERDUE_HOURS", default=48)
LOYALTY_SMS_BACKEND = env.str("SMS_BACKEND", default="members.sms.FileSmsBackend")
LOYALTY_SMS_FILE_PATH = VAR / "sms"
# Paid membership: days before the end to remind, and the function that sends it
# (campaigns may point this at their own channel).
LOYALTY_MEMBERSHIP_REMINDER_DAYS = env.int(
    "LOYALTY_MEMBERSHIP_REMINDER_DAYS", default=7
)
LOYALTY_MEMBERSHIP_REMINDER_SENDER = env.str(
    "LOYALTY_MEMBERSHIP_REMINDER_SENDER",
    default="rewards.services.memberships.membership_reminder_email_or_sms",
)

# --- Online payment for the paid membership (docs/operations.md, "Online payment")
# PAYMENT_PROVIDER: "test" (the built-in page where a person clicks Pay or Fail;
# the default under DEBUG, never in production), "liqpay", "stripe", or empty:
# no online payment, memberships are sold at the counter only. The API base
# addresses are settings so tests point them at local fake servers.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="test" if DEBUG else "")
# The providers' keys and addresses: loyalty_site/settings_services.py.

# --- Cache ------------------------------------------------------------------
# Holds the API rate-limit and password-reset counters, so every process must see
# the same one. Default: Django's database cache, in the table that the members
# migration 0016 creates; production with Redis sets CACHE_URL=redis://...
# A per-process cache (locmem, dummy) is flagged by `check --deploy`.
DB_CACHE_TABLE = "loyalty_cache"
CACHES = {
    "default": env.cache_url_config(
        env.str("CACHE_URL", default="") or f"dbcache://{DB_CACHE_TABLE}"
    )
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same, making one Redis client per pool rather than one per call.
    CACHES["default"]["BACKEND"] = "loyalty_site.redis_cache.RedisCache"
    # Sessions read from the shared cache, written through to the database:
    # a logged-in page reads no session row (only with a cache every process
    # shares: with a per-process one, a logout would not reach the others).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
if CACHES["default"]["BACKEND"].endswith(".DatabaseCache"):
    # Django culls a third of the rows past 300 by default: counters would vanish.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)
# What is kept in the cache by default only when every process shares it and
# a read costs no query: not the database cache (its reads are queries), not a
# per-process one (one worker's invalidation would miss the others).
_CACHE_SHARED_AND_FAST = not CACHES["default"]["BACKEND"].endswith(
    (".DatabaseCache", ".LocMemCache", ".DummyCache")
)
# The customer dashboard's rendered panels, kept per member and language for
# this many seconds at most (loyalty_site.dashboard_cache: any change they show
# makes them stale sooner); 0 turns it off.
DASHBOARD_CACHE_SECONDS = env.int(
    "DASHBOARD_CACHE_SECONDS", default=300 if _CACHE_SHARED_AND_FAST else 0
)
# Till tokens kept per process while the shared cache's generation holds
# (members.services.tokens).
API_TOKEN_CACHE = env.bool("API_TOKEN_CACHE", default=_CACHE_SHARED_AND_FAST)
# Password reset requests per email address and per client address in an hour;
# past either, the page answers as usual and sends nothing.
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=20)

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Uploaded files (reward pictures, the logo and favicon) -------------------
# Served by Django itself only with DEBUG on (make run); production serves
# MEDIA_ROOT from the web server or points MEDIA_URL at object storage
# (docs/operations.md).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR / "media")
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
_MEDIA_ORIGIN = "/".join(MEDIA_URL.split("/", 3)[:3]) if "://" in MEDIA_URL else ""

# --- Email --------------------------------------------------------------------
EMAIL_CONFIG = env.email_url_config(
    env.str("EMAIL_URL", default="") or "filemail://" + str(VAR / "mail")
)
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    EMAIL_FILE_PATH = VAR / "mail"
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Loyalty <loyalty@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's public address: every absolute link (emails, SMS, unsubscribe and
# tracking links, the referral link) is built from it by members.links. Unset,
# the address `make run` serves: bin/run and the Makefile pass PORT.
_PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default="") or f"http://127.0.0.1:{_PORT}"

# --- Delivery of member messages (campaigns.messaging, docs/operations.md) ---
# Without EMAIL_URL (make run) emails are kept in the database and shown on the
# Outbox page in admin; production sets EMAIL_URL=smtp+tls://user:pass@host:587.
# Tests use Django's locmem backend whatever this says.
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "campaigns.messaging.backends.email.OutboxEmailBackend"
# SMS, Viber, Telegram, web push, the delivery webhooks' secrets, webhooks
# out, wallet passes and the payment providers: loyalty_site/settings_services.py.
from loyalty_site.settings_services import *  # noqa: E402, F403

# Paid-membership reminders go through message_send and the renewal journey.
if not env.str("LOYALTY_MEMBERSHIP_REMINDER_SENDER", default=""):
    LOYALTY_MEMBERSHIP_REMINDER_SENDER = (
        "campaigns.journeys.services.membership_reminder_send"
    )
# Dotted paths an .env written before the campaigns sub-packages (issue 13) may
# name: they keep working under their new names.
MOVED_DOTTED_PATHS = {
    "campaigns.backends.": "campaigns.messaging.backends.",
    "campaigns.journeys.membership_reminder_send": (
        "campaigns.journeys.services.membership_reminder_send"
    ),
}
for _old, _new in MOVED_DOTTED_PATHS.items():
    if LOYALTY_SMS_BACKEND.startswith(_old):
        LOYALTY_SMS_BACKEND = _new + LOYALTY_SMS_BACKEND.removeprefix(_old)
    if _old == LOYALTY_MEMBERSHIP_REMINDER_SENDER:
        LOYALTY_MEMBERSHIP_REMINDER_SENDER = _new

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR / "broker/out"),
        "data_folder_out": str(VAR / "broker/out"),
        "processed_folder": str(VAR / "broker/processed"),
        "control_folder": str(VAR / "broker/control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged task (acks_late, its worker killed) goes back to the
    # queue after this many seconds; keep it above the longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
# Members per campaign chunk task.
CAMPAIGN_CHUNK_SIZE = env.int("CAMPAIGN_CHUNK_SIZE", default=1000)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None) or None
# Queues by kind, routed by task name (loyalty_site/queues.py).
LOYALTY_CELERY_QUEUES = QUEUES
CELERY_TASK_QUEUES = [Queue(name) for name in QUEUES]
CELERY_TASK_DEFAULT_QUEUE = DEFAULT_QUEUE
CELERY_TASK_ROUTES = TASK_ROUTES
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "ledger-verify-nightly": {
        "task": "rewards.tasks.ledger_verify",
        "schedule": crontab(hour=3, minute=15),
    },
    "voucher-expire-nightly": {
        "task": "rewards.tasks.voucher_expire_due",
        "schedule": crontab(hour=2, minute=30),
    },
    "points-expire-nightly": {
        "task": "rewards.tasks.points_expire_due",
        "schedule": crontab(hour=2, minute=15),
    },
    "stamp-cards-expire-nightly": {
        "task": "rewards.tasks.stamp_cards_expire_due",
        "schedule": crontab(hour=2, minute=40),
    },
    "tiers-downgrade-nightly": {
        "task": "rewards.tasks.tiers_downgrade_due",
        "schedule": crontab(hour=2, minute=45),
    },
    "memberships-expire-nightly": {
        "task": "rewards.tasks.subscriptions_expire_due",
        "schedule": crontab(hour=0, minute=20),
    },
    "membership-vouchers-nightly": {
        "task": "rewards.tasks.membership_vouchers_issue_due",
        "schedule": crontab(hour=0, minute=40),
    },
    "membership-reminders-daily": {
        "task": "rewards.tasks.subscriptions_remind_due",
        "schedule": crontab(hour=10, minute=0),
    },
    "webhooks-sweep": {
        "task": "members.tasks.webhook_deliveries_due_send",
        "schedule": env.float("WEBHOOK_SWEEP_EVERY", default=30.0),
    },
    "wallet-passes-sync-sweep": {
        "task": "rewards.tasks.wallet_passes_sync_due",
        "schedule": env.float("WALLET_SWEEP_EVERY", default=60.0),
    },
    "membership-renewals-nightly": {
        "task": "rewards.tasks.payments_renew_due",
        "schedule": crontab(hour=1, minute=45),
    },
    "otp-purge-hourly": {
        "task": "members.tasks.otp_purge_expired",
        "schedule": crontab(minute=5),
    },
    "anomalies-scan-nightly": {
        "task": "members.tasks.anomalies_scan_daily",
        "schedule": crontab(hour=3, minute=40),
    },
    "analytics-refresh-nightly": {
        "task": "analytics.tasks.snapshots_refresh_incremental",
        "schedule": crontab(hour=4, minute=30),
    },
    "birthday-bonus-nightly": {
        "task": "members.tasks.birthday_bonus_grant_due",
        "schedule": crontab(hour=4, minute=10),
    },
    "event-reminders-every-15-minutes": {
        "task": "campaigns.tasks.event_reminders_send_due",
        "schedule": crontab(minute="*/15"),
    },
    "rfm-refresh-nightly": {
        "task": "analytics.tasks_recs.rfm_refresh",
        "schedule": crontab(hour=4, minute=30),
    },
    "clv-refit-nightly": {
        "task": "analytics.tasks.clv_refit",
        "schedule": crontab(hour=5, minute=10),
    },
    "copurchase-refresh-nightly": {
        "task": "analytics.tasks_recs.copurchase_refresh",
        "schedule": crontab(hour=4, minute=50),
    },
    "campaigns-dispatch-every-minute": {
        "task": "campaigns.tasks.campaigns_dispatch_due",
        # Seconds; tests that run a real beat make it short.
        "schedule": env.float("CAMPAIGN_DISPATCH_EVERY", default=60.0),
    },
    "campaign-bonuses-hourly": {
        "task": "campaigns.tasks.campaign_bonuses_grant_due",
        "schedule": crontab(minute=25),
    },
    "survey-invites-hourly": {
        "task": "campaigns.tasks_feedback.survey_invites_send_due",
        "schedule": crontab(minute=35),
    },
    # Delivery and journeys (campaigns.tasks)
    "messages-requeue-due": {
        "task": "campaigns.tasks.messages_requeue_due",
        "schedule": crontab(minute="*/5"),
    },
    "viber-statuses-poll": {
        "task": "campaigns.tasks.viber_statuses_poll",
        "schedule": crontab(minute="*/10"),
    },
    "journey-welcome-hourly": {
        "task": "campaigns.tasks.journey_welcome_due",
        "schedule": crontab(minute=20),
    },
    "journey-tier-change-hourly": {
        "task": "campaigns.tasks.journey_tier_change_due",
        "schedule": crontab(minute=25),
    },
    "journey-birthday-daily": {
        "task": "campaigns.tasks.journey_birthday_due",
        "schedule": crontab(hour=9, minute=30),
    },
    "journey-points-expiring-daily": {
        "task": "campaigns.tasks.journey_points_expiring_due",
        "schedule": crontab(hour=10, minute=30),
    },
    "journey-voucher-reminder-daily": {
        "task": "campaigns.tasks.journey_voucher_reminder_due",
        "schedule": crontab(hour=11, minute=0),
    },
    "journey-win-back-daily": {
        "task": "campaigns.tasks.journey_win_back_due",
        "schedule": crontab(hour=11, minute=30),
    },
}
# RFM scores look at this many days of purchases (analytics.selectors.rfm).
ANALYTICS_RFM_WINDOW_DAYS = env.int("ANALYTICS_RFM_WINDOW_DAYS", default=365)
# A member whose first purchase is this recent is in the RFM segment New.
ANALYTICS_RFM_NEW_DAYS = env.int("ANALYTICS_RFM_NEW_DAYS", default=90)
# The nightly customer-value refit checks its model on this many last days
# (analytics.services.clv).
ANALYTICS_CLV_HOLDOUT_DAYS = env.int("ANALYTICS_CLV_HOLDOUT_DAYS", default=91)

# --- Analytics ----------------------------------------------------------------
# The nightly refresh recomputes this many recent days besides the changed ones.
ANALYTICS_RECENT_DAYS = env.int("ANALYTICS_RECENT_DAYS", default=3)
# A member with no purchase in this many days counts as churned.
ANALYTICS_CHURN_DAYS = env.int("ANALYTICS_CHURN_DAYS", default=90)

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "members.api.authentication.StoreTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["members.api.authentication.HasStoreToken"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "members.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["members.api.throttling.ApiTokenRateThrottle"],
    # Requests per till token: "<n>/sec|min|hour|day".
    "DEFAULT_THROTTLE_RATES": {"api_token": env.str("API_RATE", default="600/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Loyalty POS API",
    "DESCRIPTION": "Till-facing API: members, purchases, returns, redemptions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Forms --------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security (production values come from the environment) -----------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("BEHIND_TLS_PROXY", default=False)
    else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): everything is served from our own origin,
# no inline scripts or styles. Permissions-Policy is set by the proxy
# (docs/operations.md): Django has no setting for it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # Uploaded pictures may come from object storage (an absolute MEDIA_URL).
        "img-src": ["'self'", "data:", *([_MEDIA_ORIGIN] if _MEDIA_ORIGIN else [])],
        # The installable card: its manifest and service worker (/sw.js).
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
