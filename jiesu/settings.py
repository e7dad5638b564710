"""jiesu settings: one file, configured from the environment.

SQLite (WAL mode) is the embedded default; DATABASE_URL=postgres://... selects PostgreSQL.
"""

import json
import os
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from jiesu.lib import dburl

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("JIESU_DEBUG")
# The demo city (`jiesu demo`, `jiesu bench`, the generators) is installed only when this is on: off by default, on
# in scripts/demo and under pytest (pytest sets PYTEST_VERSION). No production app imports `jiesu.demo`.
DEMO = envbool("JIESU_DEMO", "1" if os.environ.get("PYTEST_VERSION") else "0")
BUILTIN_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
SECRET_KEY = os.environ.get("JIESU_SECRET_KEY", BUILTIN_SECRET_KEY)
ALLOWED_HOSTS = envlist("JIESU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "axes",
    "jiesu.lib",
    "jiesu.orgs",
    "jiesu.catalog",
    "jiesu.sla",
    "jiesu.tickets",
    "jiesu.notify",
    "jiesu.workbench",
    "jiesu.portal",
    "jiesu.intel",
    "jiesu.assessment",
    "jiesu.integrations",
    "jiesu.governance",
    "jiesu.community",
    "jiesu.cadres",
    "jiesu.training",
    "jiesu.operations",
    *(["jiesu.demo"] if DEMO else []),
]

MIDDLEWARE = [
    "jiesu.operations.middleware.RequestIdMiddleware",  # first: the id and the metrics cover everything below
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jiesu.lib.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login
]

ROOT_URLCONF = "jiesu.urls"
WSGI_APPLICATION = "jiesu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "jiesu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jiesu.notify.views.unread_count",
                "jiesu.workbench.nav.nav",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATA_DIR = Path(os.environ.get("JIESU_DATA_DIR", BASE_DIR / "var"))
# PostgreSQL: a connection pool per server process (Django's psycopg pool). CONN_MAX_AGE must stay 0 with it, so a
# request returns its connection to the pool when it ends; a request that waits longer than JIESU_DB_POOL_TIMEOUT
# for a free connection fails (503 from the server, never a leak). Connections in use at most:
# web workers × JIESU_DB_POOL_MAX + the worker + the tasks worker; keep that below PostgreSQL's max_connections.
DB_POOL_MIN = envint("JIESU_DB_POOL_MIN", 1)  # connections each process keeps open
DB_POOL_MAX = envint("JIESU_DB_POOL_MAX", 8)  # at most this many per process (≥ JIESU_WEB_THREADS)
DB_POOL_TIMEOUT = float(os.environ.get("JIESU_DB_POOL_TIMEOUT", "10"))  # seconds a request waits for one
DB_POOL = envbool("JIESU_DB_POOL", "1")  # 0: no pool, one connection per request (e.g. behind pgbouncer)
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dburl.parse(os.environ["DATABASE_URL"], conn_max_age=0)}
    if DB_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": DB_POOL_MIN,
            "max_size": DB_POOL_MAX,
            "timeout": DB_POOL_TIMEOUT,
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("JIESU_SQLITE_PATH", str(DATA_DIR / "jiesu.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
            # A file, not memory, so threads and a killed `jiesu worker` subprocess share the test database.
            "TEST": {"NAME": str(DATA_DIR / "test_jiesu.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Scale-out (issue 23): read-only analytics on a standby (jiesu/lib/routing.py), and how long each process keeps
# the reference data (calendar, policies, catalogue, units) before rereading it (jiesu/lib/refcache.py).
STANDBY_URL = os.environ.get("JIESU_STANDBY_URL") or (
    dburl.standby_url(os.environ["DATABASE_URL"])
    if envbool("JIESU_STANDBY_READS") and "," in os.environ.get("DATABASE_URL", "")
    else ""
)
if STANDBY_URL:
    DATABASES["standby"] = dburl.parse(STANDBY_URL, conn_max_age=0) | {"TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["jiesu.lib.routing.StandbyRouter"]
JIESU_REFERENCE_CACHE_SECONDS = float(os.environ.get("JIESU_REFERENCE_CACHE_SECONDS", "60"))

# --- Background work (see README "Operations": jobs) ------------------------------------------------------
# `jiesu worker` ticks the deadlines and the event outbox and enqueues the periodic tasks (webhooks, retraining,
# hotspots, forecasts, pruning), which `jiesu db_worker` runs from the database queue (admin → Task Results).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("JIESU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
WORKER_INTERVAL_SECONDS = envint("JIESU_WORKER_INTERVAL", 30)  # seconds between two ticks of `jiesu worker`
# A task still "running" this long after it started belongs to a killed task worker: marked failed, due again.
JIESU_TASK_STALE_MINUTES = envint("JIESU_TASK_STALE_MINUTES", 60)
# How often the worker looks whether webhooks are due (0: every tick) and whether to retrain the models.
JIESU_WEBHOOK_EVERY_SECONDS = envint("JIESU_WEBHOOK_EVERY_SECONDS", 0)
JIESU_RETRAIN_CHECK_MINUTES = envint("JIESU_RETRAIN_CHECK_MINUTES", 10)
# Pruning (one task, every JIESU_PRUNE_EVERY_HOURS): finished task results, webhook delivery attempts and portal /
# API throttle counters older than their retention in days; expired sessions always.
JIESU_PRUNE_EVERY_HOURS = envint("JIESU_PRUNE_EVERY_HOURS", 24)
JIESU_TASK_RETENTION_DAYS = envint("JIESU_TASK_RETENTION_DAYS", 14)
JIESU_WEBHOOK_RETENTION_DAYS = envint("JIESU_WEBHOOK_RETENTION_DAYS", 90)
JIESU_THROTTLE_RETENTION_DAYS = envint("JIESU_THROTTLE_RETENTION_DAYS", 2)

# Intelligence (jiesu.intel): where model files live, when a proposal may fill a field by itself, and how many
# newly closed tickets make the worker retrain the models.
MODEL_DIR = Path(os.environ.get("JIESU_MODEL_DIR", DATA_DIR / "models"))
# The columnar copy of the assessment facts (Parquet, read by DuckDB) and the frozen inputs of snapshots.
COLUMNAR_DIR = Path(os.environ.get("JIESU_COLUMNAR_DIR", DATA_DIR / "columnar"))
INTEL_AUTO_APPLY_CONFIDENCE = float(os.environ.get("JIESU_AUTO_APPLY_CONFIDENCE", "0.0"))
INTEL_RETRAIN_AFTER = envint("JIESU_RETRAIN_AFTER", 200)
# Open set (issue 19): the share of a never-learned category's calls that may still be auto-filled, measured inside the
# training data by leaving each category out (0.10 keeps ≥ 70 % coverage at ≥ 92 %; 0.05 is stricter, README "Trust").
INTEL_OPEN_SET_MAX = float(os.environ.get("JIESU_OPEN_SET_MAX", "0.10"))
SOLUTION_LIBRARY_NAME = os.environ.get("JIESU_SOLUTION_LIBRARY_NAME", "")  # empty: "Solution library", translated
# The public data sets the benchmarks and some tests read where they lie (never copied into the repository).
JIESU_SHARED_DATA = Path(os.environ.get("JIESU_SHARED_DATA", BASE_DIR.parent / "shared" / "data"))

# Outside contracts (jiesu.integrations): the Open311 edge names one jurisdiction; `batch` services answer a POST
# with a token instead of the request id; strict content types drop "; charset=utf-8" (some validators want that).
OPEN311_JURISDICTION_ID = os.environ.get("JIESU_OPEN311_JURISDICTION_ID", "jiesu.example.gov.cn")
OPEN311_BASE_URL = os.environ.get("JIESU_OPEN311_BASE_URL", "")  # empty: this server's own address
OPEN311_CONTACT = os.environ.get("JIESU_OPEN311_CONTACT", "12345 热线平台运维组 ops@example.gov.cn")  # i18n: data
OPEN311_KEY_SERVICE = os.environ.get(
    "JIESU_OPEN311_KEY_SERVICE", "向平台管理员申请 API key（后台 → API 客户端）"
)  # i18n: data
OPEN311_SERVICE_TYPE = os.environ.get("JIESU_OPEN311_SERVICE_TYPE", "realtime")
OPEN311_STRICT_CONTENT_TYPE = os.environ.get("JIESU_OPEN311_STRICT_CONTENT_TYPE", "") == "1"
OPEN311_ANONYMOUS_PER_HOUR = envint("JIESU_OPEN311_ANONYMOUS_PER_HOUR", 3600)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("JIESU_WEBHOOK_TIMEOUT", "5"))
WEBHOOK_MAX_BACKOFF_SECONDS = envint("JIESU_WEBHOOK_MAX_BACKOFF", 300)

# Proactive governance (jiesu.governance): hotspot detection every N minutes and its parameters (a JSON object of
# `hotspots.Params` fields, e.g. {"similarity": 0.5}); a forecast surge becomes a proposal at ≥ MIN requests in the
# next 7 days and ≥ RATIO × the usual level; a knowledge entry made from a ticket is valid for N days.
JIESU_HOTSPOT_EVERY_MINUTES = envint("JIESU_HOTSPOT_EVERY_MINUTES", 60)
JIESU_HOTSPOT_PARAMS: dict[str, Any] = json.loads(os.environ.get("JIESU_HOTSPOT_PARAMS", "{}"))
JIESU_PROACTIVE_MIN = float(os.environ.get("JIESU_PROACTIVE_MIN", "10"))
JIESU_PROACTIVE_RATIO = float(os.environ.get("JIESU_PROACTIVE_RATIO", "1.5"))
JIESU_KNOWLEDGE_VALID_DAYS = envint("JIESU_KNOWLEDGE_VALID_DAYS", 365)

# --- Auth -----------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Logins: django-axes counts failures per user name and client address and locks that pair out for a while.
AUTHENTICATION_BACKENDS = [
    "jiesu.lib.logins.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = envbool("JIESU_LOGIN_LOCKOUT", "1")  # off only where a test drives many logins on purpose
AXES_FAILURE_LIMIT = envint("JIESU_LOGIN_FAILURE_LIMIT", 5)  # failed logins before the lockout
AXES_COOLOFF_MINUTES = envint("JIESU_LOGIN_COOLOFF_MINUTES", 15)  # how long a lockout lasts
AXES_COOLOFF_TIME = AXES_COOLOFF_MINUTES / 60  # hours, as django-axes counts
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
# API keys: this many failed keys from one client address per cool-off period, then 429 (the same counting as logins).
API_KEY_FAILURE_LIMIT = envint("JIESU_API_KEY_FAILURE_LIMIT", 20)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Content Security Policy (django-csp): scripts only from this site (no inline scripts); inline styles allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- i18n: Chinese first, English available -------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "jiesu" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files (served by the app itself; no CDN) ----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "jiesu" / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Uploads: photos, stored under a configurable media root, served only through access checks ---------
MEDIA_ROOT = Path(os.environ.get("JIESU_MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media/"  # not served directly: /attachments/<id>/ checks who may see the ticket
# Text messages to citizens (the tracking code of a phone request): the gateway is a dotted path to a callable
# (phone, text); the default writes files into SMS_DIR, a stand-in for development and the demo.
SMS_SENDER = os.environ.get("JIESU_SMS_SENDER", "jiesu.lib.sms.file_sender")
SMS_DIR = Path(os.environ.get("JIESU_SMS_DIR", DATA_DIR / "sms"))
SMS_MAX_ATTEMPTS = envint("JIESU_SMS_MAX_ATTEMPTS", 10)  # then the code is dropped (the callback rates the request)
JIESU_UPLOAD_MAX_BYTES = envint("JIESU_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
JIESU_UPLOAD_MAX_FILES = envint("JIESU_UPLOAD_MAX_FILES", 3)
# Photos are decoded in full and re-encoded before storage; the EXIF data (GPS location included) is dropped unless 1.
JIESU_PHOTO_KEEP_EXIF = envbool("JIESU_PHOTO_KEEP_EXIF")
JIESU_PHOTO_MAX_PIXELS = envint("JIESU_PHOTO_MAX_PIXELS", 40_000_000)  # larger images are refused (decompression bombs)

# --- Limits (bad input is refused with a clear message, never truncated) --------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A whole request body over this is refused before it is read (photos included).
JIESU_MAX_REQUEST_BYTES = envint("JIESU_MAX_REQUEST_BYTES", 20 * 1024 * 1024)

# --- Citizens' portal: abuse protection (per client address, sliding hour) -------------------------------
JIESU_PORTAL_SUBMITS_PER_HOUR = envint("JIESU_PORTAL_SUBMITS_PER_HOUR", 5)
JIESU_PORTAL_LOOKUPS_PER_HOUR = envint("JIESU_PORTAL_LOOKUPS_PER_HOUR", 60)

# One JSON object per line on stderr (time, level, logger, message, request_id, and the exception); `text` gives
# plain lines for a terminal.
LOG_FORMAT = os.environ.get("JIESU_LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "jiesu.operations.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "jiesu.operations.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "text" if LOG_FORMAT == "text" else "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("JIESU_LOG_LEVEL", "INFO")},
    # WeasyPrint reports every layout step at INFO; only its warnings matter.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Workflow rules that are data, not code (domain.md: not confirmed — make configurable) ---------------
# A callback with one of these answers reopens the ticket (重办) instead of closing it.
JIESU_REHANDLE_ON_RESOLUTION = os.environ.get("JIESU_REHANDLE_ON_RESOLUTION", "unsolved").split(",")
JIESU_REHANDLE_ON_SATISFACTION = os.environ.get("JIESU_REHANDLE_ON_SATISFACTION", "dissatisfied").split(",")
# 回访 retries: how many times an agent tries to reach a caller who does not answer, and the minutes to wait after
# each failed try (the last interval repeats). The final failure is recorded as "not reached"; how that counts in
# the 三率 is the assessment rule set's data (answer code "not_asked").
JIESU_CALLBACK_ATTEMPTS = int(os.environ.get("JIESU_CALLBACK_ATTEMPTS", "3"))
JIESU_CALLBACK_RETRY_MINUTES = [
    int(m) for m in os.environ.get("JIESU_CALLBACK_RETRY_MINUTES", "60,240").split(",") if m.strip()
]
# Telephony (screen pop and 漏接回拨): a missed call is to be called back within this many minutes; a report whose
# time is further than the skew from the server's clock is refused (replays and stale queues).
JIESU_MISSED_CALL_CALLBACK_MINUTES = int(os.environ.get("JIESU_MISSED_CALL_CALLBACK_MINUTES", "30"))
JIESU_TELEPHONY_MAX_SKEW_SECONDS = int(os.environ.get("JIESU_TELEPHONY_MAX_SKEW_SECONDS", "300"))
# 督办: hours the lead unit has to answer a supervision order when the supervisor gives no deadline.
JIESU_SUPERVISION_ANSWER_HOURS = int(os.environ.get("JIESU_SUPERVISION_ANSWER_HOURS", "24"))

# --- Production (issue 22): serving, health, metrics, deployment -----------------------------------------
# `scripts/serve` starts gunicorn (jiesu/operations/gunicorn_conf.py) with these.
WEB_BIND = os.environ.get("JIESU_WEB_BIND", "127.0.0.1:8000")  # address:port gunicorn listens on
WEB_WORKERS = envint("JIESU_WEB_WORKERS", 2)  # processes (about one per CPU core)
WEB_THREADS = envint("JIESU_WEB_THREADS", 2)  # threads per process (each holds at most one DB connection)
WEB_TIMEOUT = envint("JIESU_WEB_TIMEOUT", 60)  # seconds before a stuck worker process is restarted
WEB_MAX_REQUESTS = envint("JIESU_WEB_MAX_REQUESTS", 50000)  # requests before a worker process is replaced (leaks)
# /readyz: the worker's heartbeat may be this old, the oldest unprocessed event this old (seconds).
READY_WORKER_MAX_AGE = envint("JIESU_READY_WORKER_MAX_AGE", 180)
READY_OUTBOX_MAX_LAG = envint("JIESU_READY_OUTBOX_MAX_LAG", 300)
# /metrics: a scraper sends "Authorization: Bearer <token>"; without a token only loopback addresses may read it.
METRICS_TOKEN = os.environ.get("JIESU_METRICS_TOKEN", "")
# HTTPS: one switch for HSTS, the SSL redirect and Secure cookies (behind a TLS-terminating proxy).
HTTPS = envbool("JIESU_HTTPS")
HSTS_SECONDS = envint("JIESU_HSTS_SECONDS", 31536000)  # one year; start lower when first trying HTTPS
SECURE_HSTS_SECONDS = HSTS_SECONDS if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = envbool("JIESU_HSTS_PRELOAD")  # a commitment for the site's owner: off unless asked for
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]  # probes from inside speak plain HTTP
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
# The proxy sets this header to "https" for TLS requests (nginx: X-Forwarded-Proto); empty: no proxy.
PROXY_SSL_HEADER = os.environ.get("JIESU_PROXY_SSL_HEADER", "")
if PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
# The client address: 0 = REMOTE_ADDR as it is; N = the N-th address from the right of X-Forwarded-For (the
# number of proxies in front that append to it; nginx with `proxy_add_x_forwarded_for` is 1).
TRUSTED_PROXIES = envint("JIESU_TRUSTED_PROXIES", 0)
CSRF_TRUSTED_ORIGINS = envlist("JIESU_CSRF_TRUSTED_ORIGINS")  # e.g. https://12345.example.gov.cn
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The built-in SECRET_KEY is refused when DEBUG is off: jiesu.wsgi (every served process) and `check --deploy`
# stop with an error. Tests and management commands still run with it.
