"""Settings, read from the environment (and `.env` when present).

Every variable is listed with a comment in `.env.example`. Defaults are for a local run
against the Onurix sandbox; production (`DJANGO_DEBUG=false`) refuses to start without a
real secret key, and with the sandbox's settings (campaigns/checks.py).
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-development-only-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production (DJANGO_DEBUG=false) needs a long random "
            "secret: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# Production refuses unsafe settings (a weak secret key, the Onurix sandbox's URL or key,
# no allowed hosts): campaigns/checks.py turns each into a system-check error. On by
# default whenever DEBUG is off; only a benchmark or a staging copy against the sandbox
# turns it off.
DJANGO_ENFORCE_PRODUCTION_CHECKS = env.bool("DJANGO_ENFORCE_PRODUCTION_CHECKS", default=not DEBUG)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "campaigns.apps.TasksDatabaseConfig",  # django_tasks_db, named in our words
    "campaigns.apps.AxesConfig",  # axes, named in our words
    "csp",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "campaigns.middleware.ActivityMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "campaigns.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "onurix_site.urls"

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
                "campaigns.context_processors.language_choices",
            ],
        },
    },
]

WSGI_APPLICATION = "onurix_site.wsgi.application"
ASGI_APPLICATION = "onurix_site.asgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web server and a worker write at once: WAL, immediate transactions and a busy
    # timeout keep SQLite from answering "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Passwords: Argon2 first; older hashes still verify and are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Guessing passwords: after DJANGO_LOGIN_FAILURE_LIMIT failures, that username is locked
# from that address for DJANGO_LOGIN_COOLOFF_MINUTES, and after
# DJANGO_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures across usernames the address is locked
# for every username; the locks lift by themselves. Behind DJANGO_TRUSTED_PROXY_COUNT
# proxies the address is read from X-Forwarded-For, so axes locks the client, not the
# proxy (campaigns/login_limits.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
DJANGO_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int(
    "DJANGO_LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20
)
DJANGO_TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
AXES_HANDLER = "campaigns.login_limits.AddressLimitDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "campaigns.login_limits.client_address"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "campaigns.views.auth.locked_out"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Languages: Spanish (Colombia) first, English one click away.
LANGUAGE_CODE = "es-co"
# Each language is named in itself, so anyone can find theirs in the switcher.
LANGUAGES = [
    ("es-co", "Español"),
    ("en", "English"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Bogota"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "onurix_language"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Static files are served by WhiteNoise (compressed, with hashed names in production:
# run `manage.py collectstatic` when deploying). Uploaded files stay on this disk and are
# served only through login-protected views.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Private uploads: MEDIA_ROOT is never served at a URL (no media route, not under
# STATIC_ROOT, and a web server in front must not expose it either). Files are read only
# through views that check permissions; file names are random, never the uploaded name.
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Onurix. The defaults point at the local sandbox (`python -m onurix_sandbox`), whose
# account is client 1000 with key "sandbox-key".
ONURIX_BASE_URL = env.str("ONURIX_BASE_URL", default="http://127.0.0.1:8765/api/v1")
ONURIX_CLIENT_ID = env.str("ONURIX_CLIENT_ID", default="1000")
ONURIX_KEY = env.str("ONURIX_KEY", default="sandbox-key")
ONURIX_TIMEOUT = env.float("ONURIX_TIMEOUT", default=10.0)

# Dispatch. Phones per `call/send` request, requests in flight at once per worker, an
# optional cap on requests per second (0: none), attempts when Onurix cannot be reached,
# and how many unknown outcomes in a row pause a campaign (a circuit breaker).
ONURIX_BATCH_SIZE = env.int("ONURIX_BATCH_SIZE", default=50)
ONURIX_CONCURRENCY = env.int("ONURIX_CONCURRENCY", default=4)
ONURIX_MAX_REQUESTS_PER_SECOND = env.float("ONURIX_MAX_REQUESTS_PER_SECOND", default=0)
ONURIX_NOT_REACHED_RETRIES = env.int("ONURIX_NOT_REACHED_RETRIES", default=3)
ONURIX_CIRCUIT_BREAKER_THRESHOLD = env.int("ONURIX_CIRCUIT_BREAKER_THRESHOLD", default=5)
# Refusals in a row (whatever Onurix's code or words) that pause a campaign; the refused
# phones were not called and wait in the queue.
ONURIX_REFUSAL_BREAKER = env.int("ONURIX_REFUSAL_BREAKER", default=3)
# Onurix error codes that mean bad credentials / no credits, on top of the built-in ones
# (campaigns/onurix_codes.py): comma-separated integers, taught without a release.
ONURIX_AUTH_CODES = env.list("ONURIX_AUTH_CODES", cast=int, default=[])
ONURIX_CREDITS_CODES = env.list("ONURIX_CREDITS_CODES", cast=int, default=[])
# A phone still "sending" after this many seconds was left by a dead worker and becomes
# unknown (0: twice ONURIX_TIMEOUT plus 30 s). Campaigns with queued phones and no activity
# for CAMPAIGN_SWEEP_QUIET_SECONDS are woken by the every-minute sweep.
ONURIX_STALE_SENDING_SECONDS = env.float("ONURIX_STALE_SENDING_SECONDS", default=0)
CAMPAIGN_SWEEP_QUIET_SECONDS = env.int("CAMPAIGN_SWEEP_QUIET_SECONDS", default=120)
# Credits assumed per call for estimates until campaigns have a history of real charges.
ONURIX_CREDITS_PER_CALL = env.float("ONURIX_CREDITS_PER_CALL", default=1.0)
# Spending limits (services/spending.py). Credits the whole account may spend in a day
# (America/Bogota), across campaigns: campaigns pause when it is reached and go on the
# next day (0: no limit). The balance under which the administrators get an email, once
# each time it falls under (0: no alert).
ONURIX_DAILY_CREDIT_LIMIT = env.int("ONURIX_DAILY_CREDIT_LIMIT", default=0)
ONURIX_LOW_BALANCE_ALERT = env.int("ONURIX_LOW_BALANCE_ALERT", default=0)
# Email, for that alert: to DJANGO_ADMINS (comma-separated addresses; empty: every active
# superuser with an address). Printed in the log unless EMAIL_BACKEND is SMTP.
ADMINS = [(address, address) for address in env.list("DJANGO_ADMINS", default=[])]
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="onurix-campaigns@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Campaign rules. Calling hours: "ley2300" (Colombia's Ley 2300 de 2023: Mon-Fri 7-19,
# Sat 8-15, never Sundays or holidays) or "always" (tests, urgent non-commercial alerts).
# A phone that answered a call in the last N days is left out (0: rule off).
CAMPAIGN_CALLING_HOURS = env.str("CAMPAIGN_CALLING_HOURS", default="ley2300")
CAMPAIGN_CONTACT_FREQUENCY_DAYS = env.int("CAMPAIGN_CONTACT_FREQUENCY_DAYS", default=7)
# Calls to one phone per calendar day (Bogota), across campaigns: a follow-up wave leaves
# out a phone already called that many times today.
CAMPAIGN_MAX_ATTEMPTS_PER_DAY = env.int("CAMPAIGN_MAX_ATTEMPTS_PER_DAY", default=1)
# A phone that failed in this many campaigns and never answered is a dead number: the
# preview proposes leaving it out, the reports and the contacts list show it.
CAMPAIGN_DEAD_NUMBER_FAILURES = env.int("CAMPAIGN_DEAD_NUMBER_FAILURES", default=3)
# Test calls spend credits too: at most this many per person in any hour.
CAMPAIGN_TEST_CALLS_PER_HOUR = env.int("CAMPAIGN_TEST_CALLS_PER_HOUR", default=10)
# Do-not-call shared with others (issue 15). Whether "also block at Onurix" starts ticked
# when someone is marked do-not-call (POST /block-phone; no unblock is known). And the
# age in days after which the loaded Registro de Números Excluidos list is called stale.
ONURIX_BLOCK_PHONE_SYNC = env.bool("ONURIX_BLOCK_PHONE_SYNC", default=False)
RNE_MAX_AGE_DAYS = env.int("RNE_MAX_AGE_DAYS", default=30)

# Contacts: the region assumed for phones typed without a country code, and the limits of
# the import (CONTACT_IMPORT_MAX_BYTES is IMPORT_MAX_BYTES's former name, still read).
ONURIX_PHONE_REGION = env.str("ONURIX_PHONE_REGION", default="CO")
IMPORT_MAX_BYTES = env.int(
    "IMPORT_MAX_BYTES", default=env.int("CONTACT_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=200)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
# An .xlsx is a zip: the most its sheet, and its table of shared strings (held in memory
# while the sheet is read), may take once uncompressed.
IMPORT_MAX_SHEET_BYTES = env.int("IMPORT_MAX_SHEET_BYTES", default=1024 * 1024 * 1024)
IMPORT_MAX_SHARED_STRINGS_BYTES = env.int(
    "IMPORT_MAX_SHARED_STRINGS_BYTES", default=100 * 1024 * 1024
)
# An import or a preview whose worker made no progress for this long is marked interrupted.
IMPORT_STALL_SECONDS = env.int("IMPORT_STALL_SECONDS", default=300)
# Uploads stream to a temporary file; the import's handler stops one over IMPORT_MAX_BYTES.
FILE_UPLOAD_HANDLERS = [
    "campaigns.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Largest local audio file (for listening in the browser) accepted with an audio code.
AUDIO_MAX_BYTES = env.int("AUDIO_MAX_BYTES", default=10 * 1024 * 1024)
# Results: how long after sending the worker keeps asking Onurix for call states.
ONURIX_POLL_MAX_HOURS = env.int("ONURIX_POLL_MAX_HOURS", default=48)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs request lines, query strings included, at DEBUG: keep it quiet.
        "urllib3": {"level": "WARNING"},
        # django-axes says hello at INFO in every process; lockouts are warnings.
        "axes": {"level": "WARNING"},
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp): everything from this site only, no inline scripts
# or styles, no eval. Behaviour lives in static/js, styles in static/css; htmx is told not
# to inject its indicator <style> (the htmx-config meta in base.html) and not to eval.
# Nor do the Django admin's pages need inline code: its scripts are files and its
# JavaScript sets styles through the DOM, which style-src does not govern.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
