"""Stamp cards: "buy 9 coffees, the 10th is free".

A StampProgram says what earns a stamp and what a full card gives. Each member
has at most one open StampCard per program; its stamps change only through
append-only StampEntry rows written by rewards.services.stamps, so the stamps
(and stamps owed) of every card equal the sum of its entries.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.appendonly import AppendOnlyModel, AppendOnlyQuerySet
from rewards.models.reasons import SystemReasonFields

# A card is drawn as one circle per stamp: more than this would not fit a phone.
MAX_STAMPS_NEEDED = 50


class StampTrigger(models.TextChoices):
    PURCHASE = "purchase", _("One stamp per purchase")
    UNIT = "unit", _("One stamp per unit of a matching item")
    MIN_SPEND = "min_spend", _("One stamp per purchase reaching a minimum spend")


class StampProgram(models.Model):
    """A stamp card offer, edited by Managers in admin.

    Trigger: every purchase (with `category`/`sku` set, only one holding a
    matching item), every whole unit of matching items (quantities of the
    receipt's matching lines added up and rounded down; free items do not
    count), or every purchase whose spend (on matching items when
    `category`/`sku` is set) reaches `min_spend`. `stamps_needed` fill a card;
    a full card issues a voucher for `reward`. The rule fields are read-only in
    admin once cards exist, so returns are judged by the rule that stamped them.
    """

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(
        _("what earns a stamp"),
        max_length=16,
        choices=StampTrigger.choices,
        default=StampTrigger.PURCHASE,
    )
    category = models.CharField(
        _("item category"),
        max_length=100,
        blank=True,
        help_text=_("Only items of this category count (as sent by the till)."),
    )
    sku = models.CharField(
        _("item SKU"),
        max_length=64,
        blank=True,
        help_text=_("Only this SKU counts. With a category too, either one counts."),
    )
    min_spend = models.DecimalField(
        _("minimum spend"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("For “minimum spend”: the amount a purchase must reach."),
    )
    stamps_needed = models.PositiveSmallIntegerField(
        _("stamps for a full card"),
        default=10,
        validators=[MinValueValidator(2), MaxValueValidator(MAX_STAMPS_NEEDED)],
    )
    reward = models.ForeignKey(
        "rewards.Reward",
        verbose_name=_("reward for a full card"),
        on_delete=models.PROTECT,
        related_name="stamp_programs",
        help_text=_("A full card gives a free voucher for this reward."),
    )
    card_valid_days = models.PositiveSmallIntegerField(
        _("card valid for (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("From the first stamp; empty: cards never expire."),
    )
    stores = models.ManyToManyField(
        "members.Store",
        verbose_name=_("stores"),
        blank=True,
        related_name="+",
        help_text=_("Empty: purchases at every store count."),
    )
    active = models.BooleanField(_("active"), default=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("stamp program")
        verbose_name_plural = _("stamp programs")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    stamps_needed__gte=2, stamps_needed__lte=MAX_STAMPS_NEEDED
                ),
                name="stamp_program_needs_two_to_fifty",
            ),
            models.CheckConstraint(
                condition=~models.Q(trigger="min_spend") | models.Q(min_spend__gt=0),
                name="stamp_program_min_spend_set",
            ),
            models.CheckConstraint(
                condition=~models.Q(trigger="unit") | ~models.Q(category="", sku=""),
                name="stamp_program_unit_has_item",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="stamp_program_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        if self.trigger == StampTrigger.MIN_SPEND and not self.min_spend:
            errors["min_spend"] = _("Give the minimum spend.")
        if self.trigger == StampTrigger.UNIT and not (self.category or self.sku):
            errors["category"] = _("Give the category or the SKU of the items.")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The end must not come before the start.")
        if errors:
            raise ValidationError(errors)

    @property
    def has_item_filter(self) -> bool:
        return bool(self.category or self.sku)

    def line_matches(self, sku: str, category: str) -> bool:
        if self.sku and sku == self.sku:
            return True
        return bool(self.category) and category.casefold() == self.category.casefold()


class StampCardStatus(models.TextChoices):
    OPEN = "open", _("Collecting")
    COMPLETED = "completed", _("Full, voucher issued")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Undone by a return")


class StampCard(models.Model):
    """One card of a member in a program; at most one open at a time.

    `needed` is copied from the program when the card opens, so editing the
    program changes only new cards. `owed` counts stamps taken back by a return
    after the card's voucher was used: the next stamps pay them first.
    """

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="stamp_cards",
        # The index on (member, program, number) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    program = models.ForeignKey(
        StampProgram,
        verbose_name=_("program"),
        on_delete=models.PROTECT,
        related_name="cards",
    )
    number = models.PositiveIntegerField(_("card number"))
    needed = models.PositiveSmallIntegerField(_("stamps needed"))
    stamps = models.PositiveSmallIntegerField(_("stamps"), default=0)
    owed = models.PositiveSmallIntegerField(_("stamps owed"), default=0)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=StampCardStatus.choices,
        default=StampCardStatus.OPEN,
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("expired or undone"), null=True, blank=True)
    voucher = models.OneToOneField(
        "rewards.Voucher",
        verbose_name=_("voucher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stamp_card",
    )

    class Meta:
        verbose_name = _("stamp card")
        verbose_name_plural = _("stamp cards")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["member", "program", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "program"],
                condition=models.Q(status="open"),
                name="stamp_card_one_open",
            ),
            models.UniqueConstraint(
                fields=["member", "program", "number"], name="stamp_card_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(stamps__gte=0, owed__gte=0),
                name="stamp_card_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(stamps__lte=models.F("needed")),
                name="stamp_card_not_above_needed",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="completed")
                | models.Q(stamps=models.F("needed"), voucher__isnull=False),
                name="stamp_card_completed_is_full",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="open")
                | models.Q(stamps__lt=models.F("needed")),
                name="stamp_card_open_not_full",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} #{self.number}: {self.stamps}/{self.needed}"

    @property
    def missing(self) -> int:
        """Stamps still to collect for the voucher, stamps owed included."""
        return max(self.needed - self.stamps, 0) + self.owed

    @property
    def slots(self) -> list[bool]:
        """One flag per stamp place, filled first: what the card page draws."""
        return [i < self.stamps for i in range(self.needed)]


class StampEntryKind(models.TextChoices):
    EARN = "earn", _("Stamped")
    RETURN = "return", _("Taken back by a return")
    MOVE = "move", _("Moved between cards")
    EXPIRE = "expire", _("Card expired")


class StampEntryQuerySet(AppendOnlyQuerySet):
    pass


class StampEntry(AppendOnlyModel, SystemReasonFields):
    """One change of a card's stamps (`delta`) or stamps owed (`owed_delta`).

    Never edited or deleted. Per card, sum(delta) == stamps and
    sum(owed_delta) == owed. Per program and purchase, sum(delta - owed_delta)
    of its entries is what the purchase still counts for, so a return takes
    back only the difference and never twice.
    """

    append_only_message = "Stamp entries are append-only; write a correction."

    card = models.ForeignKey(
        StampCard,
        verbose_name=_("card"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=StampEntryKind.choices)
    delta = models.SmallIntegerField(_("stamps"))
    owed_delta = models.SmallIntegerField(_("stamps owed"), default=0)
    reason = models.CharField(_("reason"), max_length=255)
    purchase = models.ForeignKey(
        "rewards.Purchase",
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stamp_entries",
        # The index on (purchase, card) serves it (tests/house/test_indexes.py).
        db_index=False,
    )
    purchase_return = models.ForeignKey(
        "rewards.PurchaseReturn",
        verbose_name=_("return"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stamp_entries",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = StampEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("stamp entry")
        verbose_name_plural = _("stamp entries")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["purchase", "card"])]

    def __str__(self) -> str:
        return f"{self.delta:+d} · {self.reason_text()}"
