"""Settings shared by every environment. Configuration comes from the environment (12-factor)."""

import os
from datetime import timedelta

from django.utils.csp import CSP

from .env import BASE_DIR, FLUX_SERVICE, SQLITE_OPTIONS, VAR_DIR, database_from_env, env_bool, env_list  # noqa: F401

# --- Core -----------------------------------------------------------------------------------
SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    # django.contrib.admin with Flux's site: staff come in by role (identity/admin_site.py).
    "identity.apps.FluxAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",  # CORS for the API only (see "Security headers, CSP, CORS" below)
    "django_filters",
    "tailwind",
    "theme",
    "core",  # template filters (money); no models
    "identity",
    "banking",
    "audit",
    "notifications",  # customers' notifications, written by the notifier process (manage.py run_notifier)
    "portal",
    "workspace",
    # Lockout after repeated failed sign-ins, and staff two-factor sign-in (see "Identity").
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # django-pwa: /manifest.json and /serviceworker.js (see "Installable app" below).
    "pwa",
]

MIDDLEWARE = [
    # The request id (X-Request-ID on every answer, in the logs and the audit events) and the
    # request metrics: first, so refusals by any later middleware are counted and carry the id.
    "core.observability.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Headers on every answer, static files and refusals included (see "Security headers" below).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Before anything that may answer, so a refusal (413, 429, 401...) still carries CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    # Cache-Control: no-store on the API and on every signed-in page (outside the body limit, so a
    # 413 carries it too).
    "core.middleware.NoStoreMiddleware",
    # An API body over FLUX_API_MAX_BODY_BYTES is refused with 413 before any view parses it.
    "core.middleware.ApiBodySizeLimitMiddleware",
    # A view that got no database connection in time answers 503 + Retry-After, never 500.
    "core.middleware.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the set_language cookie, else the browser's Accept-Language (after sessions).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): a staff session that gave its TOTP code; then staff pages
    # (/agent/, /staff/) refuse an unverified staff session when FLUX_REQUIRE_2FA is on.
    "django_otp.middleware.OTPMiddleware",
    "identity.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A NUL character in the query string: 400 before any view (after the language and the user,
    # for the page's sake). An exception in an API view: the API's 500, under DEBUG too.
    "core.middleware.NullCharacterMiddleware",
    "core.middleware.ApiServerErrorMiddleware",
    # A page view's NotFound (from a service or a selector): the 404 page.
    "core.middleware.NotFoundPageMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

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
                # {{ csp_nonce }} for the rare inline <style> (the Swagger UI page); no inline scripts.
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# project/settings/env.py: DATABASE_URL (PostgreSQL with a bounded pool) or development's SQLite.
DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity -------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Pages sign in with a session (identity/views.py); the API uses JWT.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Lockout (django-axes): after FLUX_LOCKOUT_FAILURES failed sign-ins for one username, on the page
# or the API, that username is refused for FLUX_LOCKOUT_MINUTES, even with the right password;
# more attempts meanwhile do not extend it. A supervisor can unlock (agent management page).
# The sign-in page and the token endpoint answer a lockout themselves (identity/lockout.py), so
# AxesMiddleware (whose async path drops the view's response) is not installed.
FLUX_LOCKOUT_FAILURES = int(os.environ.get("FLUX_LOCKOUT_FAILURES", "5"))
FLUX_LOCKOUT_MINUTES = int(os.environ.get("FLUX_LOCKOUT_MINUTES", "15"))
AUTHENTICATION_BACKENDS = [
    "identity.backends.LockoutBackend",  # django-axes: refuses a locked-out username
    # Passwords as Django's ModelBackend; permissions (the admin's) from the role only, never from
    # groups or per-user grants (identity/permissions.py).
    "identity.backends.RoleBackend",
]
AXES_FAILURE_LIMIT = FLUX_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=FLUX_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_SENSITIVE_PARAMETERS = ["password", "otp", "code"]
# The address axes records with each attempt: the same client address as the rate limits
# (FLUX_NUM_PROXIES, core/http.py), not whatever X-Forwarded-For a client sends.
AXES_CLIENT_IP_CALLABLE = "core.http.client_address"
# W006 wants the IP address in the lockout parameters: Flux counts per username on purpose (a
# branch office shares one address; a username is locked whatever address the attempts come from).
SILENCED_SYSTEM_CHECKS = ["axes.W002", "axes.W006"]
# Two-factor sign-in for staff (django-otp, TOTP): when on, agents and supervisors enrol a TOTP
# device, give a current code after their password (pages) or with it (`otp`, API), and staff
# pages refuse a session that has not. Off in development and tests, on in production.
FLUX_REQUIRE_2FA = env_bool("FLUX_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = "Flux"
# New staff, and customers onboarded without a password, choose their own password through a
# one-time link sent by mail (identity/password_links.py): Django's password-reset token, which
# stops working once the password is set (the hash it signs changes) or after this long.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("FLUX_PASSWORD_LINK_HOURS", "72")) * 3600
# The address the links in mails start with, e.g. "https://flux.example.com". Unset, a link is built
# from the request that sent it (its host is one of ALLOWED_HOSTS); without a request, localhost.
FLUX_PUBLIC_URL = os.environ.get("FLUX_PUBLIC_URL", "").strip().rstrip("/")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Mail -----------------------------------------------------------------------------------
# Flux mails one thing: the one-time link to choose a password (see "Identity"). Django 6.1's
# MAILERS (the EMAIL_* settings are deprecated). Development and tests write each mail as a file in
# var/mail/: nothing leaves the machine. Production (prod.py) sends through SMTP_MAILER: EMAIL_HOST
# and EMAIL_PORT (587), EMAIL_HOST_USER and EMAIL_HOST_PASSWORD when the relay wants them,
# STARTTLS unless EMAIL_USE_TLS=0, or implicit TLS with EMAIL_USE_SSL=1; EMAIL_TIMEOUT seconds.
FILE_MAILER = {
    "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    "OPTIONS": {"file_path": VAR_DIR / "mail"},
}
SMTP_MAILER = {
    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "OPTIONS": {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "587")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "use_tls": env_bool("EMAIL_USE_TLS", not env_bool("EMAIL_USE_SSL", False)),
        "timeout": int(os.environ.get("EMAIL_TIMEOUT", "10")),
    },
}
MAILERS = {"default": FILE_MAILER}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Flux <no-reply@flux.localhost>")

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
# English and French, chosen from the browser and switchable (Django's set_language view at
# /i18n/setlang/). The catalogue is committed compiled (locale/fr/LC_MESSAGES/django.mo), so
# nothing needs gettext at install time; `manage.py makemessages -l fr` / `compilemessages` update it.
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language, on the pages (`date:"DATE_FORMAT"`, `date:"DATETIME_FORMAT"`) as in
# their scripts (static/js/lib/when.js), always in TIME_ZONE, the bank's: core/formats/.
FORMAT_MODULE_PATH = ["core.formats"]

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
# Collected files (collectstatic, production). Development and tests serve from the apps directly.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
# Project-wide static files (vendored Alpine.js, page scripts); the built CSS lives in theme/static/.
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# WhiteNoise serves static files from the app server: compressed, with cache-busting names in
# production (see prod.py); plain files in development and tests.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Tailwind CSS (django-tailwind, npm) ----------------------------------------------------
# `manage.py tailwind install` / `build` (or `make css`) compile theme/static_src/src/styles.css
# into theme/static/css/dist/styles.css with the npm packages pinned in theme/static_src/.
TAILWIND_APP_NAME = "theme"
NPM_BIN_PATH = os.environ.get("NPM_BIN_PATH") or "/usr/bin/npm"

# --- Security headers, CSP, CORS, request size ----------------------------------------------
# Every environment sends these, so the whole suite (the browser tests too) runs under them; HSTS,
# the HTTPS redirect and secure cookies are production's (prod.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (Django's own middleware). The pages load only our own files: Alpine's
# CSP build (no eval), vendored Chart.js and static/js; no inline script anywhere, and no inline
# style except the Swagger UI page's <style>, which carries the nonce. CSP.NONCE is written into
# the header only on a response whose template used {{ csp_nonce }}. data: images: the CSS's
# inline SVG icons (Tailwind forms, Swagger UI).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# A JSON answer of the API is never a document: it may load nothing and be framed by no one
# (core/middleware.py puts this on it instead of the pages' policy).
FLUX_API_CSP = {"default-src": [CSP.NONE], "frame-ancestors": [CSP.NONE]}
# Permissions-Policy (django-permissions-policy): browser features Flux never uses are denied to
# every page and to anything it could embed. Only features Chromium knows: an unknown one is a
# console error on every page (the e2e tests fail on it).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera",
        "display-capture", "encrypted-media", "geolocation", "gyroscope", "hid", "idle-detection",
        "interest-cohort", "local-fonts", "magnetometer", "microphone", "midi", "payment",
        "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "serial", "usb",
        "xr-spatial-tracking",
    )
}
# CORS (django-cors-headers), for the API only: no origin is allowed unless listed in
# FLUX_CORS_ALLOWED_ORIGINS (comma separated, e.g. "https://app.example.com"). The API takes a
# bearer token, never a cookie, so credentials are not allowed.
CORS_ALLOWED_ORIGINS = env_list("FLUX_CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key"]
CORS_EXPOSE_HEADERS = ["Retry-After", "Idempotent-Replayed"]
CORS_PREFLIGHT_MAX_AGE = 3600
# Request size. An API body (JSON) larger than this is refused with 413 request_too_large from its
# Content-Length, before a view parses it. Pages keep Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB
# of form fields); the bulk CSV import page checks its own file limit (workspace/imports/).
FLUX_API_MAX_BODY_BYTES = int(os.environ.get("FLUX_API_MAX_BODY_BYTES", str(64 * 1024)))
# The bulk import takes a CSV body of up to 4 MB (its own limit, workspace/imports/reader.py MAX_BYTES,
# answers a larger file with validation_error); this cap only stops bodies far beyond it unread.
FLUX_API_UPLOAD_PATHS = ("/api/v1/imports/",)
FLUX_API_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A batch of transfers (POST transfers/batch/) carries up to FLUX_BATCH_MAX_ITEMS items of about
# 300 bytes each at most (a 140-character reference): 1 MB admits a full batch with room to spare.
FLUX_BATCH_MAX_ITEMS = 1000
FLUX_API_BATCH_PATHS = ("/api/v1/transfers/batch/",)
FLUX_API_MAX_BATCH_BYTES = 1024 * 1024
# Any other request (the pages: forms, the bulk import page's file): refused with 413 past this,
# under ASGI before Django reads it (core/middleware.py BodySizeLimitASGI).
FLUX_MAX_BODY_BYTES = int(os.environ.get("FLUX_MAX_BODY_BYTES", str(10 * 1024 * 1024)))

# --- Cache: the API's rate limits ------------------------------------------------------------
# Shared counters live in Redis when REDIS_URL is set (production, compose): every worker process
# counts against the same limit with one atomic round trip (core/api/throttling.py). Otherwise in
# each process's memory (development, tests). Never the database: its cache ran a SELECT COUNT(*)
# of the cache table on every write, that is on every API request. Short socket timeouts: a
# stalled Redis lets requests through unthrottled (logged) rather than holding them.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "flux",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "flux",
            # Room for every live counter (past it the cache drops a share of its keys).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's bearer tokens, refused once their family is revoked (identity/authentication.py).
        "identity.authentication.FamilyJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.IdCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's throttles with an atomic count (core/api/throttling.py), in the cache below.
        "core.api.throttling.AnonRateThrottle",
        "core.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("FLUX_THROTTLE_USER", "1200/min"),
        "anon": os.environ.get("FLUX_THROTTLE_ANON", "300/min"),
        "auth": os.environ.get("FLUX_THROTTLE_AUTH", "30/min"),
        # Verification of payee (banking/payees.py): enough for typing, too few to list IBAN holders.
        "payee_check": os.environ.get("FLUX_THROTTLE_PAYEE_CHECK", "30/min"),
    },
    # Anonymous callers (and auth/token/) are counted per client address: REMOTE_ADDR, or behind
    # FLUX_NUM_PROXIES trusted proxies the address they saw (X-Forwarded-For). With DRF's default
    # (None), a client could pick its own address in X-Forwarded-For and never be throttled.
    "NUM_PROXIES": int(os.environ.get("FLUX_NUM_PROXIES", "0")),
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("FLUX_ACCESS_TOKEN_MINUTES", "5"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("FLUX_REFRESH_TOKEN_DAYS", "1"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Flux API",
    "DESCRIPTION": (
        "Flux moves a bank's money. Amounts are decimal strings with their currency; every request "
        "that moves money carries an Idempotency-Key header. Errors are "
        '{"error": {"code", "message", "fields"}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # A transaction's kind and status keep one name wherever they appear (sync/ lists transactions
    # next to accounts, whose kind and status are other choice sets).
    "ENUM_NAME_OVERRIDES": {
        "TransactionKindEnum": "banking.models.TransactionKind",
        "TransactionStatusEnum": "banking.models.TransactionStatus",
    },
    # 401, 429 (with Retry-After) and 413 on every operation (core/api/schema.py); the default
    # enum hook first.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.add_common_errors",
    ],
}

# --- Ledger rules and money with other banks: project/settings/banking.py ----------------------
from .banking import *  # noqa: E402,F401,F403

# --- Logging, the scheduler and metrics: project/settings/operations.py ------------------------
from .operations import *  # noqa: E402,F401,F403

# --- NATS (audit pipeline and log shipping) -------------------------------------------------
# `make run` starts its own nats-server on 4333 (monitoring on 8333) unless NATS_URL is given.
# On a cluster, NATS_URL lists its nodes, comma-separated (nats://n1:4222,nats://n2:4222,...), and
# every process fails over among them; NATS_MONITOR_URL may list their monitoring ports likewise
# (the dashboard reads the first that answers and the connections of all). docs/operations/nats.md.
NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4333")
NATS_MONITOR_URL = os.environ.get("NATS_MONITOR_URL", "http://127.0.0.1:8333")
FLUX_AUDIT_STREAM = os.environ.get("FLUX_AUDIT_STREAM", "AUDIT")
# Copies of the AUDIT stream JetStream keeps: 1 on a standalone server, 3 on a cluster (it then
# loses nothing and keeps working when a node goes). An existing stream is changed to it.
FLUX_AUDIT_STREAM_REPLICAS = int(os.environ.get("FLUX_AUDIT_STREAM_REPLICAS", "1"))
FLUX_AUDIT_CONSUMER = os.environ.get("FLUX_AUDIT_CONSUMER", "audit-log")
FLUX_AUDIT_DEDUP_WINDOW_SECONDS = int(os.environ.get("FLUX_AUDIT_DEDUP_WINDOW_SECONDS", "600"))
FLUX_AUDIT_STREAM_MAX_AGE_DAYS = int(os.environ.get("FLUX_AUDIT_STREAM_MAX_AGE_DAYS", "30"))
FLUX_AUDIT_ACK_WAIT_SECONDS = int(os.environ.get("FLUX_AUDIT_ACK_WAIT_SECONDS", "10"))
# The relay polls the outbox this often while traffic is light: an event reaches NATS at most this
# long after its commit (no per-transaction NOTIFY: audit/relay.py).
FLUX_RELAY_SWEEP_SECONDS = float(os.environ.get("FLUX_RELAY_SWEEP_SECONDS", "0.1"))
# Under load (a poll found at least FLUX_RELAY_LINGER_FROM events), it lets the next ones gather
# this long instead, so that they travel in batches of hundreds: each batch costs the relay, the
# consumer and the notifier a fixed part (queries, a transaction, acks). A full batch is followed
# by the next at once. audit/relay.py, docs/operations/capacity.md.
FLUX_RELAY_LINGER_SECONDS = float(os.environ.get("FLUX_RELAY_LINGER_SECONDS", "0.5"))
FLUX_RELAY_LINGER_FROM = int(os.environ.get("FLUX_RELAY_LINGER_FROM", "20"))
# Batches (docs/operations/nats.md): the relay publishes up to this many outbox events at once
# without waiting for each JetStream ack; the consumer fetches up to this many messages and
# stores them in one transaction.
FLUX_RELAY_BATCH_SIZE = int(os.environ.get("FLUX_RELAY_BATCH_SIZE", "500"))
FLUX_AUDIT_CONSUMER_BATCH_SIZE = int(os.environ.get("FLUX_AUDIT_CONSUMER_BATCH_SIZE", "500"))
FLUX_LOGS_STREAM = os.environ.get("FLUX_LOGS_STREAM", "LOGS")
FLUX_LOGS_STREAM_MAX_MSGS = int(os.environ.get("FLUX_LOGS_STREAM_MAX_MSGS", "1000"))
# Core NATS subject on which the consumer announces each stored record (the live tail feeds on it).
FLUX_AUDIT_RECORDED_SUBJECT = "auditlog.recorded"
# The notifier (notifications/notifier.py): its own durable consumer on AUDIT, the batch it writes
# in one transaction, and the core NATS subject (<subject>.<customer id>) on which it announces each
# notification to the customer's open app (notifications/live.py).
FLUX_NOTIFIER_CONSUMER = os.environ.get("FLUX_NOTIFIER_CONSUMER", "notifier")
FLUX_NOTIFIER_BATCH_SIZE = int(os.environ.get("FLUX_NOTIFIER_BATCH_SIZE", "200"))
FLUX_NOTIFY_SUBJECT = "notify.customer"
# Each process connects as its own NATS user (deploy/nats/nats.conf: relay, consumer, web), with
# these or with credentials in NATS_URL (nats://user:password@host:port). Empty: no credentials
# (a server without users, as the tests' own).
NATS_USER = os.environ.get("NATS_USER", "")
NATS_PASSWORD = os.environ.get("NATS_PASSWORD", "")

# --- Audit message signatures (audit/signing.py) ---------------------------------------------
# The relay signs every audit event it publishes (header Flux-Signature: v1=<HMAC-SHA256 of the
# subject, Nats-Msg-Id and payload>) and the consumer refuses what is unsigned or forged; the
# consumer signs its live-tail announcements too. Relay, consumer and web need the same key.
# Empty (the default): a key derived from SECRET_KEY (HMAC-SHA256 of SECRET_KEY with a fixed
# label), so production needs nothing more; set it (at least 32 random characters) to give the
# audit pipeline its own key. Rotation: put the old key in the FALLBACKS (comma-separated); for the
# derived key, Django's SECRET_KEY_FALLBACKS play that part. Signatures by a fallback are accepted,
# new ones use the key.
FLUX_AUDIT_SIGNING_KEY = os.environ.get("FLUX_AUDIT_SIGNING_KEY", "")
FLUX_AUDIT_SIGNING_KEY_FALLBACKS = env_list("FLUX_AUDIT_SIGNING_KEY_FALLBACKS")

# --- Staff audit dashboard (live tail) ------------------------------------------------------
# An idle server-sent event stream sends a comment this often, so proxies keep it open.
FLUX_LIVE_TAIL_HEARTBEAT_SECONDS = float(os.environ.get("FLUX_LIVE_TAIL_HEARTBEAT_SECONDS", "15"))

# --- Installable app (django-pwa) -----------------------------------------------------------
# django-pwa serves /manifest.json from these settings and /serviceworker.js from our own worker
# (precached shell, network-first pages with an offline fallback; API calls never cached).
PWA_SERVICE_WORKER_PATH = BASE_DIR / "static" / "js" / "serviceworker.js"
PWA_APP_NAME = "Flux"
PWA_APP_DESCRIPTION = "Your Flux accounts: balances, history and transfers, also offline."
PWA_APP_THEME_COLOR = "#1d4ed8"
PWA_APP_BACKGROUND_COLOR = "#f8fafc"
PWA_APP_DISPLAY = "standalone"
PWA_APP_ORIENTATION = "any"
PWA_APP_START_URL = "/app/"
PWA_APP_SCOPE = "/"
PWA_APP_DEBUG_MODE = False
PWA_APP_LANG = "en"
PWA_APP_ICONS = [
    {"src": "/static/icons/flux-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
    {"src": "/static/icons/flux-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
    {"src": "/static/icons/flux-maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
]
PWA_APP_ICONS_APPLE = [{"src": "/static/icons/flux-192.png", "sizes": "192x192"}]
PWA_APP_SPLASH_SCREEN: list = []
# The sync feed re-sends entries younger than this, so one committed late (ids are handed out
# before commit) is never skipped by the cursor; the page de-duplicates them by id.
FLUX_SYNC_SETTLE_SECONDS = int(os.environ.get("FLUX_SYNC_SETTLE_SECONDS", "10"))
