from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        # members sends its one-time codes through members.messages.message_send:
        # the message log and delivery live here, above members.
        from campaigns.messaging import message_send
        from members.messages import message_sender_register

        message_sender_register(message_send)
        # A member's erasure also erases the texts of their messages and feedback.
        from campaigns import privacy

        privacy.privacy_parts_register()
