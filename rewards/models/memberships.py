"""Paid membership: plans sold at the till, each member's subscription and its history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.appendonly import AppendOnlyModel, AppendOnlyQuerySet
from members.formatting import date_format
from rewards.models.reasons import SystemReasonFields


class RefundEnds(models.TextChoices):
    AT_ONCE = "at_once", _("At once")
    PERIOD_END = "period_end", _("At the end of the paid period")


class MembershipPlan(models.Model):
    """A paid membership ("Club", 99 UAH a month) and its perks.

    Sold at a till or the Counter, or online through the payment provider
    (rewards.services.payments). Written by staff in admin; members join and
    renew through rewards.services.subscription_sell.
    """

    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    period_months = models.PositiveSmallIntegerField(
        _("period (months)"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("How long one sale lasts; a renewal adds one more period."),
    )
    earn_multiplier = models.DecimalField(
        _("earn multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("1"))],
        help_text=_("Multiplies the earning rate, on top of the tier's: e.g. 1.5."),
    )
    monthly_reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("monthly voucher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A free voucher of this reward every calendar month."),
    )
    guaranteed_tier = models.ForeignKey(
        "rewards.Tier",
        verbose_name=_("guaranteed tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Members keep at least this tier while the membership lasts."),
    )
    is_active = models.BooleanField(
        _("on sale"), default=True, help_text=_("Only plans on sale can be sold.")
    )
    refund_ends = models.CharField(
        _("a refund ends the membership"),
        max_length=16,
        choices=RefundEnds.choices,
        default=RefundEnds.AT_ONCE,
        help_text=_(
            "When an online payment is refunded: end the membership at once, or "
            "let it run to the end of the paid period without renewing."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("membership plan")
        verbose_name_plural = _("membership plans")
        ordering = ["price", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(earn_multiplier__gte=1),
                name="plan_multiplier_at_least_one",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="plan_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(period_months__gte=1),
                name="plan_period_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class Subscription(SystemReasonFields):
    """A member's paid membership of one plan. At most one is active per member.

    Started by a sale; each further sale of the same plan renews it (the period
    end moves one period on from the later of now and the current end).
    Cancelling ends it at once; the nightly job expires it after its period.
    With `auto_renew` on, the nightly payments job starts the next payment.
    Written only by rewards.services (subscription_sell, subscription_cancel,
    subscriptions_expire_due, subscriptions_remind_due) under its row lock;
    every change is a SubscriptionEvent in the same transaction.
    """

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
        # The index on (member, status) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    plan = models.ForeignKey(
        MembershipPlan,
        verbose_name=_("plan"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    current_period_end = models.DateTimeField(_("paid until"))
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("sold at store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sold by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancel_reason = models.CharField(_("why cancelled"), max_length=255, blank=True)
    # reason_code, reason_params (SystemReasonFields): of `cancel_reason`.
    reason_text_field = "cancel_reason"
    auto_renew = models.BooleanField(
        _("renews automatically"),
        default=False,
        help_text=_("The member opted in to paying for the next period online."),
    )
    # The period end the expiry reminder was sent for: one reminder per period.
    reminder_sent_for = models.DateTimeField(
        _("reminded about the end of"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["status", "current_period_end"]),
            models.Index(fields=["member", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(status="active"),
                name="subscription_one_active_per_member",
            ),
            models.CheckConstraint(
                condition=models.Q(current_period_end__gt=models.F("started_at")),
                name="subscription_period_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.member.card_number}"


class SubscriptionEventKind(models.TextChoices):
    STARTED = "started", _("Started")
    RENEWED = "renewed", _("Renewed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    VOUCHER = "voucher", _("Monthly voucher issued")
    REMINDER = "reminder", _("Expiry reminder sent")
    AUTO_RENEW_ON = "renew_on", _("Automatic renewal turned on")
    AUTO_RENEW_OFF = "renew_off", _("Automatic renewal turned off")
    REFUNDED = "refunded", _("Payment refunded")


class SubscriptionEventQuerySet(AppendOnlyQuerySet):
    """Reads only: the history is append-only, like the ledger."""


class SubscriptionEvent(AppendOnlyModel):
    """One thing that happened to a subscription; never changed or deleted.

    A sale (started, renewed) keeps its receipt: (store, receipt_id) is unique,
    so a till that retries the sale gets the first result back.
    """

    append_only_message = "Subscription events are append-only."

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.PROTECT,
        related_name="events",
        # The index on (subscription, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=SubscriptionEventKind.choices
    )
    store = models.ForeignKey(
        "members.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receipt_id = models.CharField(_("receipt id"), max_length=64, blank=True)
    price_paid = models.DecimalField(
        _("price paid"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    period_end = models.DateTimeField(_("paid until"), null=True, blank=True)
    voucher = models.ForeignKey(
        "rewards.Voucher",
        verbose_name=_("voucher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = SubscriptionEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription event")
        verbose_name_plural = _("subscription history")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subscription", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "receipt_id"],
                condition=~models.Q(receipt_id=""),
                name="subscription_sale_receipt_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {date_format(self.created_at)}"
