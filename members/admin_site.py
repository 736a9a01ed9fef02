from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class LoyaltyAdminSite(admin.AdminSite):
    """The staff back office: Django admin plus the Counter for cashiers."""

    site_header = _("Loyalty back office")
    site_title = _("Loyalty")
    index_title = _("Back office")

    def get_urls(self):
        from rewards.counter import counter_urls  # the Counter lives with the points it moves

        return counter_urls(self) + super().get_urls()
