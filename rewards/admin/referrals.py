"""Back office for bonuses and referrals: the bonus settings row and the
referral review queue (moved from members.admin with the models)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.admin_base import SingletonAdminMixin
from members.audit import StaffActor
from members.errors import ServiceError
from rewards.models import BonusSettings, Referral, ReferralStatus
from rewards.services.bonuses import bonus_settings_ensure, bonus_settings_save
from rewards.services.referrals import referral_approve, referral_refuse


@admin.register(BonusSettings)
class BonusSettingsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """One row: the changelist opens it, it cannot be added twice or deleted."""

    singleton_get = staticmethod(bonus_settings_ensure)

    list_display = (
        "__str__",
        "welcome_points",
        "profile_points",
        "birthday_points",
        "referee_points",
        "referrer_points",
    )
    list_filter = ("updated_at",)
    search_fields = ("welcome_points",)
    fieldsets = (
        (
            _("Bonuses"),
            {
                "fields": (
                    "welcome_points",
                    "profile_points",
                    "birthday_points",
                    "birthday_reward",
                )
            },
        ),
        (
            _("Referrals"),
            {
                "fields": (
                    "referee_points",
                    "referrer_points",
                    "referral_min_purchase",
                    "referral_cap_per_month",
                    "referral_review_per_day",
                )
            },
        ),
        (None, {"fields": ("updated_at",)}),
    )
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        bonus_settings_save(settings_row=obj, actor=StaffActor.from_request(request))


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Referrals are written by enrollment and purchases; staff only review them."""

    list_display = (
        "created_at",
        "referrer",
        "referee_phone",
        "status",
        "refusal_reason",
        "review_note",
        "qualified_at",
    )
    list_filter = ("status", "refusal_reason", "created_at")
    list_select_related = ("referrer", "referee", "decided_by")
    search_fields = (
        "referrer__card_number",
        "referrer__phone",
        "referrer__referral_code",
        "referee__card_number",
        "referee_phone",
    )
    date_hierarchy = "created_at"
    readonly_fields = (
        "referrer",
        "referee",
        "referee_phone",
        "status",
        "refusal_reason",
        "review_note",
        "created_at",
        "qualified_at",
        "decided_by",
    )
    fields = readonly_fields
    actions = ("approve", "refuse")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, service, done_message) -> None:
        done = 0
        skipped = queryset.exclude(status=ReferralStatus.REVIEW).count()
        for referral in queryset.filter(status=ReferralStatus.REVIEW):
            try:
                service(referral=referral, by=request.user)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                done += 1
        self.message_user(request, done_message(done), messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d referral was not waiting for review and was left as it is.",
                    "%(count)d referrals were not waiting for review and were left as they are.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(
        description=_("Approve the selected referrals"), permissions=["change"]
    )
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            referral_approve,
            lambda n: (
                ngettext(
                    "%(count)d referral approved.", "%(count)d referrals approved.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(
        description=_("Refuse the selected referrals"), permissions=["change"]
    )
    def refuse(self, request, queryset):
        self._decide(
            request,
            queryset,
            referral_refuse,
            lambda n: (
                ngettext(
                    "%(count)d referral refused.", "%(count)d referrals refused.", n
                )
                % {"count": n}
            ),
        )
