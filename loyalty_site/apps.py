from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class LoyaltySiteConfig(AppConfig):
    """The project package as an app: its system checks, the staff roles
    applied after every migrate, the dashboard cache's invalidation signals,
    PostgreSQL's times read in C (it has no models of its own)."""

    default = True
    name = "loyalty_site"
    verbose_name = "Loyalty site"

    def ready(self) -> None:
        from loyalty_site import checks  # noqa: F401 - registers the checks
        from loyalty_site.dashboard_cache import dashboard_cache_connect
        from loyalty_site.roles import roles_sync_after_migrate

        # Sent once per app in INSTALLED_APPS order; this app comes after the
        # four apps, so every permission exists by then.
        post_migrate.connect(
            roles_sync_after_migrate,
            sender=self,
            dispatch_uid="loyalty_site.roles_sync",
        )
        dashboard_cache_connect()
        from loyalty_site.time_loader import utc_loader_install

        connection_created.connect(
            utc_loader_install, dispatch_uid="loyalty_site.utc_loader"
        )


class LoyaltyAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (loyalty_site.admin_site)."""

    default = False
    default_site = "loyalty_site.admin_site.LoyaltyAdminSite"
