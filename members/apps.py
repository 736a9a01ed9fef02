from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    default = True
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from members.branding import branding_changed
        from members.models import Branding

        # Cache invalidation only (the one use of signals here): any save of
        # the branding row, by any path, clears the cached copy.
        post_save.connect(
            branding_changed, sender=Branding, dispatch_uid="branding_saved"
        )
        post_delete.connect(
            branding_changed, sender=Branding, dispatch_uid="branding_deleted"
        )
        # Web push: its address (the member's subscribed browsers) and whether
        # it is configured here.
        from members.push import push_register

        push_register()
