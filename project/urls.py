from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from pwa import views as pwa_views

from audit.health import healthz, readyz
from core.api.views import not_found
from core.metrics import metrics_view
from identity.throttling import sign_in_rate_limited

home_page = TemplateView.as_view(template_name="home.html", extra_context={"debug": settings.DEBUG})


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): the app's icon."""
    return redirect(static("icons/flux-192.png"), permanent=True)


def home(request):
    """Signed in, a customer goes straight to their accounts and staff to their workspace; a
    visitor gets the home page."""
    if request.user.is_authenticated:
        if request.user.is_customer:
            return redirect("portal:accounts")
        if request.user.is_bank_staff:
            return redirect("workspace:home")
    return home_page(request)


urlpatterns = [
    # The API first: Django tries the patterns in order, and every include that does not match builds
    # the list of what it tried (its Resolver404), so an API request resolved after the pages' eight
    # includes spent 5 % of its CPU finding its view (py-spy, 16 clients, issue 11).
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (?script), so the Content-Security-Policy
    # needs no inline script for the docs either.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("identity.api_urls")),
    path("api/v1/", include("banking.api_urls")),
    path("api/v1/", include("audit.api_urls")),
    path("api/v1/", include("notifications.api_urls")),
    path("api/v1/", include("portal.api_urls")),
    path("api/v1/", include("workspace.api_urls")),
    # Anything else under /api/ answers in the API's error shape, in development too.
    re_path(r"^api/", not_found),
    path("", home, name="home"),
    path("favicon.ico", favicon),
    # Operations (DESIGN.md): liveness, readiness and Prometheus metrics.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("", include("identity.urls")),
    # The admin's sign-in page under the same per-address rate as /login/ (identity/throttling.py);
    # before admin.site.urls, so this pattern answers /admin/login/ (reverse() still finds the admin's).
    path("admin/login/", sign_in_rate_limited(admin.site.login)),
    path("admin/", admin.site.urls),
    path("staff/", include("audit.urls")),
    path("app/", include("portal.urls")),
    path("agent/", include("workspace.urls")),
    # django-pwa's views, at the root so the worker's scope is the whole site (not its /offline/:
    # the app's offline page is portal:offline).
    path("serviceworker.js", pwa_views.service_worker, name="serviceworker"),
    path("manifest.json", pwa_views.manifest, name="manifest"),
    # set_language (POST): the language switcher in the navigation.
    path("i18n/", include("django.conf.urls.i18n")),
]

handler404 = "core.api.views.not_found"
handler500 = "core.api.views.server_error"
