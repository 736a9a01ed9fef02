from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    default = True
    name = "members"
    verbose_name = _("Members")


class LoyaltyAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "members.admin_site.LoyaltyAdminSite"
