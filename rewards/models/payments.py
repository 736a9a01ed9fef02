"""Online payments for the paid membership: one row per checkout, and the
append-only log of every provider callback that passed its signature check."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.appendonly import AppendOnlyModel, AppendOnlyQuerySet


class PaymentProviderName(models.TextChoices):
    TEST = "test", _("Test provider")
    LIQPAY = "liqpay", _("LiqPay")
    STRIPE = "stripe", _("Stripe")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the payment")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    MISMATCH = "mismatch", _("Does not match (needs staff)")


class PaymentPurpose(models.TextChoices):
    BUY = "buy", _("Membership bought")
    RENEWAL = "renewal", _("Automatic renewal")


class Payment(models.Model):
    """One attempt to pay for a membership period online.

    Created pending by payment_checkout_start with our own order id, which the
    provider echoes back in its callback. Only a verified callback whose
    amount, currency and order match moves it to paid, and only then is the
    membership sold (subscription_sell at the online store, the order id as
    the receipt). Written only by rewards.services.payments (and .renewals) under its row lock
    (after the member's account).
    """

    order_id = models.CharField(_("order id"), max_length=64, unique=True)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="payments",
        # The index on (member, created_at) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    plan = models.ForeignKey(
        "rewards.MembershipPlan",
        verbose_name=_("plan"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    purpose = models.CharField(
        _("purpose"),
        max_length=16,
        choices=PaymentPurpose.choices,
        default=PaymentPurpose.BUY,
    )
    provider = models.CharField(
        _("provider"), max_length=16, choices=PaymentProviderName.choices
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PaymentStatus.choices,
        default=PaymentStatus.PENDING,
    )
    auto_renew = models.BooleanField(
        _("renew automatically"),
        default=False,
        help_text=_("The member's choice at checkout, applied once it is paid."),
    )
    # The provider's own ids: a LiqPay payment_id, a Stripe Checkout Session
    # and its PaymentIntent (a refund's charge names the PaymentIntent).
    provider_session_id = models.CharField(
        _("provider checkout id"), max_length=255, blank=True, db_index=True
    )
    provider_payment_id = models.CharField(
        _("provider payment id"), max_length=255, blank=True, db_index=True
    )
    # What the provider saved for charging again without the customer (automatic
    # renewal): LiqPay's card_token. Stripe keeps it on the PaymentIntent.
    provider_token = models.CharField(
        _("saved card token"), max_length=255, blank=True, editable=False
    )
    subscription = models.ForeignKey(
        "rewards.Subscription",
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    refunded_amount = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="payment_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.order_id


class CallbackOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    IGNORED = "ignored", _("Nothing to do")
    MISMATCH = "mismatch", _("Amount, currency or order did not match")
    UNKNOWN_ORDER = "unknown", _("Unknown order")


class PaymentCallbackQuerySet(AppendOnlyQuerySet):
    """Reads only: the callback log is append-only."""


class PaymentCallback(AppendOnlyModel):
    """A provider's callback whose signature checked out, as it arrived.

    (provider, event_key) is unique: a provider delivering the same event
    again (LiqPay's same data, Stripe's same event id) finds its row and
    changes nothing. A callback with a bad signature is refused before it
    gets here and leaves no row.
    """

    append_only_message = "Payment callbacks are append-only."

    provider = models.CharField(
        _("provider"), max_length=16, choices=PaymentProviderName.choices
    )
    event_key = models.CharField(_("event id"), max_length=128)
    event_type = models.CharField(_("event"), max_length=64, blank=True)
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="callbacks",
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=CallbackOutcome.choices
    )
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    body = models.TextField(_("body as received"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    objects = PaymentCallbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment callback")
        verbose_name_plural = _("payment callbacks")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_key"], name="payment_callback_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_key}"
