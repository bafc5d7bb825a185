"""JSON answers for requests that never reach a DRF view (unknown URL, crash) under /api/."""

import sys

from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from core.db.pool import is_pool_exhausted, service_unavailable
from core.errors import error_response


# Exempt from CSRF: an unknown API path answers its JSON 404 to every method; a POST would
# otherwise get Django's CSRF 403 page in HTML (an API caller sends no CSRF token). It changes nothing.
@csrf_exempt
def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return error_response("not_found", "Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    # The last resort for an exhausted pool (a middleware's query, outside any view): still 503.
    if is_pool_exhausted(sys.exc_info()[1]):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return error_response(
            "server_error", "Something went wrong on our side; nothing was applied.",
            status=500,
        )
    return defaults.server_error(request)
