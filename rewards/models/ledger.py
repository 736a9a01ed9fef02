"""Points accounts and the append-only ledger of entries that moves them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.appendonly import (  # noqa: F401 (AppendOnlyError: re-exported)
    AppendOnlyError,
    AppendOnlyModel,
    AppendOnlyQuerySet,
)
from members.formatting import number_format, signed_number_format
from rewards.models.reasons import SystemReasonFields


class LatestTimeField(models.DateTimeField):
    """auto_now that never goes back: a save sets it to now, or leaves it
    where it is when it is later than this process's clock (another app
    server's, a little ahead). PointsAccount.updated_at is the time of the
    account's last write, and a ledger entry is stamped from it
    (rewards.services.ledger.entry_post), so that entries in time order are
    entries in the order they were written, whichever server's clock wrote
    them."""

    def pre_save(self, model_instance, add):
        if not self.auto_now:
            return super().pre_save(model_instance, add)
        value = timezone.now()
        last = getattr(model_instance, self.attname)
        if last is not None and last > value:
            value = last
        setattr(model_instance, self.attname, value)
        return value

    def at_least(self, model_instance, value) -> None:
        """Move the instance's time on to `value` when that is later (a write
        stamped with its own time: an import, a job given its time), so that
        the next pre_save does not go before it."""
        last = getattr(model_instance, self.attname)
        if value is not None and (last is None or value > last):
            setattr(model_instance, self.attname, value)


class PointsAccount(models.Model):
    """A member's points wallet. `balance` caches the sum of its ledger entries.

    The balance may go below zero only through a return clawback after the
    points were spent; later earnings pay the debt back.
    """

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="account",
    )
    balance = models.IntegerField(_("balance"), default=0)
    tier = models.ForeignKey(
        "rewards.Tier",
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    tier_since = models.DateTimeField(_("in this tier since"), null=True, blank=True)
    # The day the nightly check first found the member below their tier; the
    # grace period counts from here, and a qualifying value clears it.
    tier_lapsed_on = models.DateField(_("below the tier since"), null=True, blank=True)
    updated_at = LatestTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")

    def __str__(self) -> str:
        return f"{self.member.card_number}: {number_format(self.balance)}"


class LedgerKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    CLAWBACK = "clawback", _("Return")
    ADJUST = "adjust", _("Adjustment")
    EXPIRE = "expire", _("Expired")
    BONUS = "bonus", _("Bonus")
    REFUND = "refund", _("Points returned")


class LedgerEntryQuerySet(AppendOnlyQuerySet):
    """Reads only: bulk update and delete would bypass the append-only rule."""


class LedgerEntry(AppendOnlyModel, SystemReasonFields):
    """One movement of points. Never edited, never deleted: corrections are new entries."""

    append_only_message = "Ledger entries are append-only; write a correction."

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="entries",
        # (account, -created_at, -id) serves every look-up by account; a
        # second index on account alone was the generic plan's pick for the
        # points-earned tier value (rewards/tests/ledger/
        # test_receipt_lookup_plan.py).
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=LedgerKind.choices)
    points = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    # The text a person typed, or for a system entry (reason_code set) its
    # rendering in the program's default language, for readers of the column.
    reason = models.CharField(_("reason"), max_length=255)
    purchase = models.ForeignKey(
        "rewards.Purchase",
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    purchase_return = models.ForeignKey(
        "rewards.PurchaseReturn",
        verbose_name=_("return"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    redemption = models.ForeignKey(
        "rewards.Redemption",
        verbose_name=_("redemption"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    voucher = models.ForeignKey(
        "rewards.Voucher",
        verbose_name=_("voucher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True
    )
    # For an earn entry, which stage or rule gave how many points:
    # [{"stage": "base", "rule": null, "name": "", "multiplier": "", "points": 40}, ...]
    # summing to `points` (rewards.earning). Empty for other kinds.
    breakdown = models.JSONField(_("breakdown"), default=list, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at", "-id"])]
        permissions = [("adjust_points", _("Can adjust points manually"))]
        constraints = [
            # A redemption or a manual deduction may never take a balance below
            # zero; only a clawback may (the points were already spent).
            models.CheckConstraint(
                condition=models.Q(kind="clawback")
                | models.Q(points__gte=0)
                | models.Q(balance_after__gte=0),
                name="ledger_no_overdraw",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="earn") | models.Q(points__gte=0),
                name="ledger_earn_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["redeem", "clawback", "expire"])
                | models.Q(points__lte=0),
                name="ledger_debits_not_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{signed_number_format(self.points)} · {self.reason_text()}"


class PointsLot(models.Model):
    """Points credited together that expire together: one per credit entry.

    `remaining` is what is left of it after debits drew on it (rewards.services.
    ledger). Invariant per account: sum(remaining) == max(balance, 0); a credit
    that arrives while the balance is negative pays the debt first, so its lot
    starts smaller. Pending points (available_at in the future) cannot be spent.
    """

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="lots",
    )
    entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("credited by"),
        null=True,  # the opening lot of an account that had points before lots
        blank=True,
        on_delete=models.PROTECT,
        related_name="lot",
    )
    points = models.PositiveIntegerField(_("points"))
    remaining = models.PositiveIntegerField(_("remaining"))
    earned_at = models.DateTimeField(_("earned"))
    available_at = models.DateTimeField(_("available from"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    expiry_entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("expired by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expired_lot",
    )

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        ordering = ["account", "expires_at", "earned_at", "id"]
        indexes = [
            models.Index(
                fields=["account", "expires_at", "earned_at"],
                condition=models.Q(remaining__gt=0),
                name="lot_open_by_account",
            ),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(remaining__gt=0),
                name="lot_open_by_expiry",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__lte=models.F("points")),
                name="lot_remaining_not_above_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points}"


class LotDraw(models.Model):
    """How many points a debit entry took from which lot (spent soonest-expiring
    first). Lets a refund restore the expiry the points had."""

    entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="draws"
    )
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="draws")
    points = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("lot draw")
        verbose_name_plural = _("lot draws")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gt=0), name="lot_draw_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points} from lot {self.lot_id}"
