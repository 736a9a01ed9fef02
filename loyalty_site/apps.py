from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LoyaltySiteConfig(AppConfig):
    """The project package as an app, for its system checks only (no models)."""

    default = True
    name = "loyalty_site"
    verbose_name = "Loyalty site"

    def ready(self) -> None:
        from loyalty_site import checks  # noqa: F401 - registers the checks


class LoyaltyAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (loyalty_site.admin_site)."""

    default = False
    default_site = "loyalty_site.admin_site.LoyaltyAdminSite"
