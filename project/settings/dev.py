"""Development: `make run`. Never use these settings with real money."""

from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env_list
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
