"""Production: every secret from the environment, HTTPS only."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env_bool

# DEBUG shows settings and source on every error page: production refuses to start with it rather
# than quietly ignoring the variable.
if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG is on: production never runs in debug mode; unset DEBUG.")
DEBUG = False
# The same test as Django's security.W009: long, varied and not a generated development key.
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):  # noqa: F405
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")

# The audit pipeline's signing key is derived from SECRET_KEY unless FLUX_AUDIT_SIGNING_KEY is set
# (base.py "Audit message signatures"); one that is set must be as hard to guess.
if FLUX_AUDIT_SIGNING_KEY and (len(FLUX_AUDIT_SIGNING_KEY) < 32 or len(set(FLUX_AUDIT_SIGNING_KEY)) < 5):  # noqa: F405
    raise ImproperlyConfigured("FLUX_AUDIT_SIGNING_KEY is too weak: use at least 32 random characters, or unset "
                               "it to derive the key from SECRET_KEY.")

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes and scrapers talk plain HTTP to the process itself, not through the TLS proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Served over HTTPS only: a stray http:// URL in a page is fetched over HTTPS instead of blocked.
SECURE_CSP = {**SECURE_CSP, "upgrade-insecure-requests": True}  # noqa: F405

STATIC_ROOT = os.environ.get("STATIC_ROOT", str(VAR_DIR / "static"))  # noqa: F405
WHITENOISE_USE_FINDERS = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "core.storage.StaticFilesStorage"},
}

# One JSON object per log line, with the request id (base.py "Logging"), unless LOG_FORMAT says otherwise.
if "LOG_FORMAT" not in os.environ:
    LOG_FORMAT = "json"
    LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405

# Mail goes out through SMTP (EMAIL_HOST and the rest: base.py, "Mail"), not into files.
MAILERS = {"default": SMTP_MAILER}  # noqa: F405

# Staff sign in with a TOTP code after their password (identity/two_factor.py).
FLUX_REQUIRE_2FA = env_bool("FLUX_REQUIRE_2FA", True)

# The API's rate limits count in Redis when REDIS_URL is set (base settings, "Cache"); without it
# each worker process counts on its own, so a caller gets up to WEB_CONCURRENCY times the rate.
# Who is the client, for the anonymous and sign-in rate limits: behind N trusted proxies, the
# address the nearest one saw (X-Forwarded-For); 0 when clients connect directly. No default:
# guessed wrong, either the whole bank shares one sign-in limit (the proxy's address) or a
# client picks its own address and is never limited.
if not os.environ.get("FLUX_NUM_PROXIES", "").strip():
    raise ImproperlyConfigured(
        "Set FLUX_NUM_PROXIES to the number of proxies in front of Flux (1 behind one TLS-terminating "
        "proxy, 0 when clients connect directly)."
    )
