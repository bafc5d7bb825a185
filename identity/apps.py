from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Identity"
    default = True  # this module has two configs: "identity" in INSTALLED_APPS means this one


class FluxAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Flux's site (identity.admin_site): staff come in by role."""

    default = False
    default_site = "identity.admin_site.FluxAdminSite"
