"""Bonuses and referrals: the amounts (one settings row) and the referrals
members make with their codes.

The models came from the members app and keep their tables (members_*).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BonusSettings(models.Model):
    """Bonus and referral amounts: one row, edited by Managers in admin.

    Every amount defaults to 0, which switches that bonus off.
    """

    welcome_points = models.PositiveIntegerField(
        _("welcome bonus"), default=0, help_text=_("Points for every new member.")
    )
    profile_points = models.PositiveIntegerField(
        _("profile bonus"),
        default=0,
        help_text=_(
            "Points, once, when first name, last name, birthday and email are all set."
        ),
    )
    birthday_points = models.PositiveIntegerField(
        _("birthday bonus"),
        default=0,
        help_text=_(
            "Points once a year in the birthday month; not when the birthday was "
            "entered less than 30 days before it."
        ),
    )
    birthday_reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("birthday gift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "A free voucher for this reward in the birthday month, as well as or "
            "instead of the points, under the same rules."
        ),
    )
    referee_points = models.PositiveIntegerField(
        _("bonus for the referred member"),
        default=0,
        help_text=_("Points for a new member who joins with a friend's code."),
    )
    referrer_points = models.PositiveIntegerField(
        _("bonus for the referrer"),
        default=0,
        help_text=_("Points for the friend after the new member's first purchase."),
    )
    referral_min_purchase = models.DecimalField(
        _("minimum first purchase"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("A purchase of at least this total qualifies the referral."),
    )
    referral_cap_per_month = models.PositiveIntegerField(
        _("referrals per referrer per month"),
        default=10,
        help_text=_("Referrals beyond this in a calendar month are refused."),
    )
    referral_review_per_day = models.PositiveIntegerField(
        _("referrals per day before review"),
        default=3,
        help_text=_(
            "A referrer's referrals beyond this in one day wait for a staff review."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "members_bonussettings"
        verbose_name = _("bonus settings")
        verbose_name_plural = _("bonus settings")

    def __str__(self) -> str:
        return str(_("Bonus settings"))


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first purchase")
    REVIEW = "review", _("Waiting for review")
    QUALIFIED = "qualified", _("Bonus given")
    REFUSED = "refused", _("Refused")


class RefusalReason(models.TextChoices):
    SELF_REFERRAL = "self", _("Self-referral (same phone, email or device)")
    ALREADY_ENROLLED = "enrolled", _("Already an enrolled member")
    OVER_CAP = "cap", _("Over the monthly cap of the referrer")
    STAFF = "staff", _("Refused by staff after review")


class Referral(models.Model):
    """A member who joined with another member's referral code.

    The referee gets the referee bonus at enrollment (unless refused); the
    referrer gets the referrer bonus when the referral qualifies, after the
    referee's first qualifying purchase.
    """

    referrer = models.ForeignKey(
        "members.Member",
        verbose_name=_("referrer"),
        on_delete=models.CASCADE,
        related_name="referrals_made",
        # The index on (referrer, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    referee = models.OneToOneField(
        "members.Member",
        verbose_name=_("referred member"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="referral",
    )
    # Kept for refusals of an already-enrolled member, who gets no new row.
    referee_phone = models.CharField(_("phone of the referred"), max_length=20)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReferralStatus.choices,
        default=ReferralStatus.PENDING,
        db_index=True,
    )
    refusal_reason = models.CharField(
        _("refusal reason"), max_length=16, choices=RefusalReason.choices, blank=True
    )
    review_note = models.CharField(_("why in review"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    qualified_at = models.DateTimeField(_("qualified"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        db_table = "members_referral"
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["referrer", "created_at"])]

    def __str__(self) -> str:
        return f"{self.referrer.card_number} → {self.referee_phone}"
