from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Points and rewards")

    def ready(self) -> None:
        from rewards import earn_config

        earn_config.connect()
