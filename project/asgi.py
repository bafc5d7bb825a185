import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.dev")
django.setup(set_prefix=False)

from django.urls import get_resolver  # noqa: E402  (needs the settings loaded above)

from audit import performance  # noqa: E402
from core.asgi import SyncChainASGIHandler  # noqa: E402
from core.middleware import BodySizeLimitASGI  # noqa: E402

# The middleware chain runs synchronously, in one thread hop per request (core/asgi.py).
django_application = SyncChainASGIHandler()
# Every URL module and view imported now, at start-up, rather than by each worker's first
# requests (under load those queued behind the imports).
get_resolver().url_patterns  # noqa: B018 (read for its side effect: the imports)

# This worker's live figures on NATS, and everyone else's for the performance page.
performance.start("web")

# Oversized bodies are refused before Django reads them (core/middleware.py).
application = BodySizeLimitASGI(django_application)

# What start-up built (Django, the URL modules, the views: some 150,000 objects) lives as long as
# the worker: out of the garbage collector's sight from now on. Each full collection traversed it
# all, 40-50 ms (and 120-320 ms under load) with the worker's requests stopped; the p99 at 16
# clients went from 102-111 ms to 91-102 ms (interleaved runs of benchmarks/capacity.py, issue 11).
gc.freeze()
