from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Points and rewards")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from members.formatting import currency_cache_clear, currency_source_register
        from rewards import earn_config, privacy
        from rewards.models import ProgramSettings
        from rewards.selectors.program import program_settings_get

        earn_config.connect()
        # Money on every page is written in the program's currency.
        currency_source_register(lambda: program_settings_get().currency)
        post_save.connect(
            currency_cache_clear,
            sender=ProgramSettings,
            dispatch_uid="rewards_currency_cache",
        )
        # A member's data export and erasure take in the points history.
        privacy.privacy_parts_register()
