"""Development: `make run`. Never use these settings with real money."""

from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env_bool, env_list
from .secret_key import development_secret_key

DEBUG = True
# SECRET_KEY from the environment, else a random key made on the first start and kept in
# var/secret_key (mode 0600, gitignored): a key committed here would let anyone who reads the
# repository forge sessions and JWTs for every user of a development server.
SECRET_KEY = os.environ.get("SECRET_KEY") or development_secret_key(VAR_DIR / "secret_key")  # noqa: F405
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],0.0.0.0")
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [  # noqa: F405
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]
# DEBUG would also keep every query's SQL in memory (connection.queries) for a debugging tool
# Flux does not have: about 9% of a transfer's CPU under `make run` (core/db/backends). The same
# backends without that log; FLUX_LOG_QUERIES=1 keeps Django's own (and the django.db.backends
# logger's SQL lines).
if not env_bool("FLUX_LOG_QUERIES", False):
    DATABASES["default"]["ENGINE"] = {  # noqa: F405
        "django.db.backends.postgresql": "core.db.backends.postgresql",
        "django.db.backends.sqlite3": "core.db.backends.sqlite3",
    }.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])  # noqa: F405
