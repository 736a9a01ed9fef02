"""The staff back office: Django's admin site with the pages that span the apps.

It lives above the four apps because it mounts pages of several of them: the
Counter (rewards), the dashboards and Member 360 (analytics). What the apps'
ModelAdmins share stays low, in members.admin_base, so no app imports this.
"""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect
from django.urls import re_path, reverse
from django.utils.translation import gettext_lazy as _

from members.admin_base import COUNTER_PERMISSION, PlainNumbersAdminSite
from members.branding import branding_get

# Admin pages of models that moved from members to rewards (rewards 0013): links
# in emails sent before the move (the anomaly digest) and staff bookmarks still
# lead to the page, under its new app label.
MOVED_TO_REWARDS = (
    "adjustmentrequest",
    "anomalyflag",
    "bonussettings",
    "referral",
    "staffcontrols",
)


def moved_model_redirect(request, model: str, rest: str = ""):
    query = request.META.get("QUERY_STRING", "")
    target = f"{reverse('admin:index')}rewards/{model}/{rest}"
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


def moved_model_urls(site) -> list:
    models = "|".join(MOVED_TO_REWARDS)
    return [
        re_path(
            rf"^members/(?P<model>{models})/(?P<rest>.*)$",
            site.admin_view(moved_model_redirect),
            name="moved_to_rewards",
        )
    ]


class LoyaltyAdminSite(PlainNumbersAdminSite):
    """The staff back office: Django admin plus the Counter for cashiers."""

    site_header = _("Loyalty back office")
    site_title = _("Loyalty")
    index_title = _("Back office")

    def get_urls(self):
        # Imported here, not at the top: these modules register ModelAdmins on
        # admin.site, which is this class, so they load once it exists.
        from analytics.admin.dashboards import analytics_urls
        from analytics.admin.member360 import member360_urls
        from rewards.counter import counter_urls

        # Before the admin's own URLs: the member admin's catch-all would take them.
        return (
            counter_urls(self)
            + member360_urls(self)
            + analytics_urls(self)
            + moved_model_urls(self)
            + super().get_urls()
        )

    def each_context(self, request):
        context = super().each_context(request)
        # The program's name (members.branding, cached: no query).
        brand = branding_get()
        context["site_header"] = _("%(program)s back office") % {"program": brand.name}
        context["site_title"] = brand.name
        user = request.user
        if user.is_active and user.is_staff and user.has_perm(COUNTER_PERMISSION):
            context["counter_url"] = reverse("admin:counter", current_app=self.name)
        if (
            user.is_active
            and user.is_staff
            and user.has_perm("analytics.view_dashboard")
        ):
            context["analytics_url"] = reverse(
                "admin:analytics_overview", current_app=self.name
            )
        return context
