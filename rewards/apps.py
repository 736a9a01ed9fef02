from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"
    verbose_name = _("Points and rewards")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from members.formatting import currency_cache_clear, currency_source_register
        from rewards import earn_config, privacy, reasons_stamps  # noqa: F401 - codes
        from rewards.models import ProgramSettings
        from rewards.selectors.program import program_settings_get
        from rewards.wallet import checks  # noqa: F401 - registers its deploy check

        earn_config.connect()
        self.enrolment_hooks_register()
        # Money on every page is written in the program's currency.
        currency_source_register(lambda: program_settings_get().currency)
        post_save.connect(
            currency_cache_clear,
            sender=ProgramSettings,
            dispatch_uid="rewards_currency_cache",
        )
        # A member's data export and erasure take in the points history.
        privacy.privacy_parts_register()

    @staticmethod
    def enrolment_hooks_register() -> None:
        """Plug rewards into members' enrolment and profile changes (members
        must not import rewards; docs/decisions.md, "Enrolment hooks"): the
        points account right after the member's INSERT, the welcome, referral
        and profile bonuses last in the enrolment transaction, the refused
        referral of a member already enrolled, the bulk twin of the first two,
        and the profile bonus when a profile is completed."""
        from members.services import hooks
        from rewards.services.accounts import points_account_create
        from rewards.services.bonuses import profile_bonus_check
        from rewards.services.enrolment import (
            BulkEnrolmentBonuses,
            enrolment_bonuses_grant,
        )
        from rewards.services.referrals import referral_refuse_enrolled

        hooks.hook_register(hooks.member_created_hooks, points_account_create)
        hooks.hook_register(hooks.enrolment_hooks, enrolment_bonuses_grant)
        hooks.hook_register(hooks.enrolment_refused_hooks, referral_refuse_enrolled)
        hooks.hook_register(hooks.bulk_enrolment_hooks, BulkEnrolmentBonuses)
        hooks.hook_register(hooks.profile_hooks, profile_bonus_check)
        # A file from an earlier program brings balances and tiers with its
        # members (members.import_columns).
        from members.import_columns import import_columns_register
        from rewards.services.migration import MEMBER_IMPORT_COLUMNS

        import_columns_register(MEMBER_IMPORT_COLUMNS)
