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
        # Till tokens held by each process (members.services.tokens): a token,
        # a store or a partner saved or deleted by any path reads them again.
        from members.models import ApiToken, Partner, Store
        from members.services.tokens import api_tokens_changed

        for model in (ApiToken, Partner, Store):
            for signal in (post_save, post_delete):
                signal.connect(
                    api_tokens_changed,
                    sender=model,
                    dispatch_uid=f"api_tokens.{model.__name__}.{signal is post_save}",
                )
        # Web push: its address (the member's subscribed browsers) and whether
        # it is configured here.
        from members.push import push_register

        push_register()
