from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        from campaigns import (
            reasons,  # noqa: F401 - registers the ledger texts campaigns writes
            tasks,  # noqa: F401 - services queue them by name
        )
        from campaigns.messaging.services import message_send
        from campaigns.segments.builtins import conditions_register_builtin
        from members.messages import message_sender_register

        conditions_register_builtin()
        # Promo codes may be limited to segments' members: rewards asks here.
        from campaigns.promocodes.services import promo_code_segment_check
        from rewards.services.promocodes import promo_eligibility_register

        promo_eligibility_register(promo_code_segment_check)
        from campaigns.promocodes.selectors import promo_code_campaigns
        from rewards.selectors.promocodes import promo_report_grouping_register

        promo_report_grouping_register("campaign", _("Campaign"), promo_code_campaigns)
        # members sends its one-time codes through members.messages.message_send:
        # the message log and delivery live here, above members.
        message_sender_register(message_send)
        # Each channel's backend (email is handed over by delivery itself).
        from campaigns.messaging.backends import channel_backend_register
        from campaigns.messaging.delivery import sms_hand_over
        from members.models import Channel

        channel_backend_register(Channel.SMS, sms_hand_over)
        from campaigns.messaging.backends.viber import viber_configured
        from campaigns.messaging.viber import viber_hand_over
        from members.messages import channel_available_register

        channel_backend_register(Channel.VIBER, viber_hand_over)
        channel_available_register(
            Channel.VIBER, viber_configured, backend_setting="LOYALTY_VIBER_BACKEND"
        )
        from campaigns.messaging.backends.telegram import (
            telegram_configured,
            telegram_hand_over,
        )

        channel_backend_register(Channel.TELEGRAM, telegram_hand_over)
        channel_available_register(
            Channel.TELEGRAM,
            telegram_configured,
            backend_setting="LOYALTY_TELEGRAM_BACKEND",
        )
        from campaigns.messaging.backends.push import push_hand_over

        channel_backend_register(Channel.PUSH, push_hand_over)
        # A member's erasure also erases the texts of their messages and feedback.
        from campaigns import privacy

        privacy.privacy_parts_register()
