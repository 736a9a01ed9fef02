"""POS API for purchases and returns: a purchase earns, a return claws back."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from members.api.serializers import (
    CardNumberField,
    card_digits,
    error_responses,
    plain_text,
)
from members.api.views import PHONE_MAX_LENGTH, TillApiView
from members.errors import InvalidInput, NotFound
from members.models import Store
from rewards.api.base import REPLAY, member_from, replay_status
from rewards.api.promocodes import promo_error_responses
from rewards.api.serializers import (
    MAX_LINES,
    RECEIPT_MAX_LENGTH,
    DateTimeField,
    EarnBreakdownSerializer,
    MemberRefSerializer,
    PurchaseLineSerializer,
    ReturnLineSerializer,
    money_field,
    plain_money,
    receipt_field,
)
from rewards.earning import breakdown_in_order
from rewards.models import (
    LedgerEntry,
    LedgerKind,
    PromoCodeUse,
    Purchase,
    StampEntry,
    StampEntryKind,
)
from rewards.selectors.stamps import stamp_progress_for_purchase
from rewards.services.lines import LineInput, ReturnLineInput
from rewards.services.purchases import purchase_record, purchase_time_check
from rewards.services.returns import purchase_return_record

PURCHASE_ID_MAX_DIGITS = (
    18  # below bigint's 19, so a long id is "not found", not an overflow
)


RECEIPT_CONFLICT = _("This store used the receipt id before with other details.")


def _store_zone(store: Store) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(store.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def _earn_details(purchase: Purchase) -> tuple[list, bool]:
    """(the EARN entry's breakdown, whether the purchase gave stamps) in one query."""
    earn = LedgerEntry.objects.filter(
        purchase=OuterRef("pk"), kind=LedgerKind.EARN
    ).order_by("pk")
    stamped = StampEntry.objects.filter(
        purchase=OuterRef("pk"), kind=StampEntryKind.EARN
    )
    breakdown, has_stamps = (
        Purchase.objects.filter(pk=purchase.pk)
        .values_list(Subquery(earn.values("breakdown")[:1]), Exists(stamped))
        .get()
    )
    return breakdown or [], has_stamps


def purchase_input_plain(data) -> dict | None:
    """PurchaseCreateApi.InputSerializer's validated_data for the body a till
    sends on almost every sale: a card number or a phone, a receipt id and a
    total as a string, and no time, lines or promo code (absent or null).
    None for any other body, which the serializer then validates (and words
    every error of). Building and running the serializer cost more CPU than
    the rest of the request outside the ledger; a test holds both to the
    same result."""
    if type(data) is not dict:
        return None
    for name in _PLAIN_ABSENT:
        if data.get(name) is not None:
            return None
    card, phone = data.get("card_number"), data.get("phone")
    if card is not None and phone is None:
        if type(card) is not str or not (text := card.strip()):
            return None
        member_ref = {"card_number": card_digits(text)}
    elif phone is not None and card is None:
        member_ref = {"phone": plain_text(phone, PHONE_MAX_LENGTH)}
    else:
        return None
    receipt_id = plain_text(data.get("receipt_id"), RECEIPT_MAX_LENGTH)
    total = plain_money(data.get("total"))
    if None in member_ref.values() or receipt_id is None or total is None:
        return None
    validated = {**member_ref, "receipt_id": receipt_id, "total": total}
    # A field sent as null is in validated_data as None, as DRF has it.
    validated.update((name, None) for name in _PLAIN_ABSENT if name in data)
    return validated


_PLAIN_ABSENT = ("occurred_at", "lines", "promo_code")


def breakdown_items(breakdown: list) -> list[dict]:
    """The answer's points_breakdown from the EARN entry's stored breakdown."""
    return [
        {key: item.get(key) for key in ("stage", "rule", "name", "points")}
        for item in breakdown_in_order(breakdown)
    ]


class PurchaseStampSerializer(serializers.Serializer):
    program = serializers.CharField(source="program.name")
    earned = serializers.IntegerField(
        help_text=_("Stamps this purchase gave (stamps owed it paid included).")
    )
    stamps = serializers.IntegerField(
        help_text=_("Stamps on the member's open card now.")
    )
    needed = serializers.IntegerField(help_text=_("Stamps for a full card."))
    owed = serializers.IntegerField(
        help_text=_("Stamps still owed after a return; the next ones pay them.")
    )
    vouchers = serializers.ListField(
        child=serializers.CharField(),
        source="voucher_codes",
        help_text=_("Codes of the vouchers issued for the cards this purchase filled."),
    )

    class Meta:
        ref_name = "PurchaseStamps"


class PurchasePromoSerializer(serializers.Serializer):
    code = serializers.CharField(source="key.code")
    effect = serializers.CharField()
    bonus_points = serializers.IntegerField(
        source="points", help_text=_("Points the code added (a BONUS entry).")
    )
    discount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text=_("The discount the till gave, as recorded."),
    )
    voucher = serializers.CharField(
        source="voucher.code",
        allow_null=True,
        default=None,
        help_text=_("The code of the voucher it gave, or null."),
    )
    reversed = serializers.SerializerMethodField()

    class Meta:
        ref_name = "PurchasePromoCode"

    def get_reversed(self, use) -> bool:
        return use.reversed_at is not None


class PurchaseCreateApi(TillApiView):
    """Record a receipt for a member and earn its points."""

    class InputSerializer(MemberRefSerializer):
        card_number = CardNumberField(required=False, allow_null=True)
        phone = serializers.CharField(
            max_length=PHONE_MAX_LENGTH, required=False, allow_null=True
        )
        receipt_id = receipt_field()
        total = money_field(help_text=_('Amount paid, e.g. "412.50".'))
        occurred_at = DateTimeField(
            required=False,
            allow_null=True,
            help_text=_(
                "ISO 8601; without an offset it is read in the store's time zone. "
                "Defaults to now."
            ),
        )
        # An explicit ListSerializer: with many=True, allow_null would reach the
        # child too and let [null] through as a line.
        lines = serializers.ListSerializer(
            child=PurchaseLineSerializer(),
            required=False,
            allow_null=True,
            max_length=MAX_LINES,
        )
        promo_code = serializers.CharField(
            max_length=64,
            required=False,
            allow_null=True,
            allow_blank=True,
            help_text=_(
                "A promo code the customer gave; `total` is then what they paid "
                "after the code's discount. Used in the same transaction; a code "
                "that cannot be used refuses the purchase (400/404/409 naming "
                "promo_code, with a `reason`)."
            ),
        )

        class Meta:
            ref_name = "PurchaseCreateInput"

        def validate_occurred_at(self, value: dt.datetime | None) -> dt.datetime | None:
            if value is None:
                return None
            try:
                # One form for the same instant, so a retry with another offset replays.
                value = value.astimezone(dt.UTC)
            except OverflowError:
                raise serializers.ValidationError(
                    _("Enter a time of purchase between the years 1 and 9999.")
                ) from None
            try:
                purchase_time_check(occurred_at=value)
            except InvalidInput as exc:
                raise serializers.ValidationError(exc.message) from None
            return value

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        points_earned = serializers.IntegerField()
        points_balance = serializers.IntegerField(
            source="balance_after",
            help_text=_("The member's balance right after this purchase."),
        )
        points_breakdown = serializers.SerializerMethodField(
            help_text=_("Which step or rule gave how many of the points earned.")
        )
        stamps = serializers.SerializerMethodField(
            help_text=_("The stamp cards this purchase stamped; empty when none.")
        )
        promo_code = serializers.SerializerMethodField(
            help_text=_(
                "The promo code used on this purchase, or null (none given, or "
                'a "best of" code that the promotions beat).'
            )
        )

        class Meta:
            ref_name = "PurchaseCreateOutput"

        @extend_schema_field(PurchasePromoSerializer(allow_null=True))
        def get_promo_code(self, purchase: Purchase) -> dict | None:
            if not self.context.get("promo_code"):
                return None  # no code sent: no query
            use = (
                PromoCodeUse.objects.filter(purchase=purchase)
                .select_related("key", "voucher")
                .first()
            )
            if use is None:
                return None
            return PurchasePromoSerializer(use).data

        # The view reads both details in one query (_earn_details) and passes
        # them as context["breakdown"] and context["stamped"].
        @extend_schema_field(EarnBreakdownSerializer(many=True))
        def get_points_breakdown(self, purchase: Purchase) -> list[dict]:
            return breakdown_items(self.context["breakdown"])

        @extend_schema_field(PurchaseStampSerializer(many=True))
        def get_stamps(self, purchase: Purchase) -> list[dict]:
            if not self.context["stamped"]:
                return []
            return PurchaseStampSerializer(
                stamp_progress_for_purchase(purchase=purchase), many=True
            ).data

    @classmethod
    def output_data(
        cls, purchase: Purchase, *, breakdown: list, stamped: bool, promo_code
    ) -> dict:
        """OutputSerializer's data. A purchase without stamps or a promo code
        (nearly every one) is answered without building the serializer, whose
        fields cost more CPU than the rest of the answer; a test holds both
        to the same result."""
        if stamped or promo_code:
            context = {
                "breakdown": breakdown,
                "stamped": stamped,
                "promo_code": promo_code,
            }
            return cls.OutputSerializer(purchase, context=context).data
        return {
            "id": int(purchase.pk),
            "points_earned": int(purchase.points_earned),
            "points_balance": int(purchase.balance_after),
            "points_breakdown": breakdown_items(breakdown),
            "stamps": [],
            "promo_code": None,
        }

    @extend_schema(
        operation_id="purchase_create",
        summary=_("Record a purchase"),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description=REPLAY),
            **promo_error_responses(
                e404=_(
                    "No member has this card or phone, or no promo code is the "
                    "one given (reason: unknown)."
                ),
                e409=_(
                    "This store used the receipt id before with other details; or "
                    "the promo code's limits are reached (reason: limit_reached, "
                    "member_limit_reached, day_limit_reached)."
                ),
            ),
        },
        tags=["purchases"],
    )
    def post(self, request: Request) -> Response:
        store = request.auth.store
        data = purchase_input_plain(request.data)
        if data is None:
            serializer = self.InputSerializer(data=request.data)
            with timezone.override(_store_zone(store)):
                serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        purchase, replayed = purchase_record(
            store=store,
            member=member_from(data),
            receipt_id=data["receipt_id"],
            total=data["total"],
            lines=[LineInput(**line) for line in data.get("lines") or []],
            occurred_at=data.get("occurred_at"),
            source=Purchase.Source.API,
            promo_code=data.get("promo_code") or None,
        )
        # Set by purchase_record on the write it just made; read back on a replay.
        breakdown, stamped = getattr(purchase, "earn_details", None) or _earn_details(
            purchase
        )
        output = self.output_data(
            purchase,
            breakdown=breakdown,
            stamped=stamped,
            promo_code=data.get("promo_code"),
        )
        return Response(output, status=replay_status(replayed))


class PurchaseReturnCreateApi(TillApiView):
    """Return part or all of one of this store's purchases; its points are taken back."""

    class InputSerializer(serializers.Serializer):
        receipt_id = receipt_field()
        amount = money_field(
            required=False,
            allow_null=True,
            help_text=_("The money refunded; or give `lines`."),
        )
        lines = serializers.ListSerializer(
            child=ReturnLineSerializer(),
            required=False,
            allow_null=True,
            max_length=MAX_LINES,
            help_text=_("The items brought back, matched by SKU; or give `amount`."),
        )

        class Meta:
            ref_name = "PurchaseReturnCreateInput"

        def validate(self, attrs: dict) -> dict:
            has_amount = attrs.get("amount") is not None
            has_lines = bool(attrs.get("lines"))
            if has_amount and has_lines:
                message = _("Give either an amount or lines to return, not both.")
                raise serializers.ValidationError(
                    {"amount": [message], "lines": [message]}
                )
            if not has_amount and not has_lines:
                message = _("Give the amount or the lines to return.")
                raise serializers.ValidationError(
                    {"amount": [message], "lines": [message]}
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        points_reversed = serializers.IntegerField(
            help_text=_("Points this return took back.")
        )
        points_balance = serializers.IntegerField(
            source="balance_after",
            help_text=_(
                "The member's balance right after this return; may be negative."
            ),
        )

        class Meta:
            ref_name = "PurchaseReturnCreateOutput"

    @extend_schema(
        operation_id="purchase_return_create",
        summary=_("Record a return"),
        parameters=[
            OpenApiParameter(
                "purchase_id",
                int,
                OpenApiParameter.PATH,
                description=_("The `id` that recording the purchase returned."),
            )
        ],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description=REPLAY),
            **error_responses(
                400,
                401,
                404,
                409,
                e404=_("No purchase with this id at this store."),
                e409=RECEIPT_CONFLICT,
            ),
        },
        tags=["purchases"],
    )
    def post(self, request: Request, purchase_id: str) -> Response:
        store = request.auth.store
        purchase = self._purchase_of_store(purchase_id, store)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ret, replayed = purchase_return_record(
            purchase=purchase,
            store=store,
            receipt_id=data["receipt_id"],
            amount=data.get("amount"),
            lines=[ReturnLineInput(**line) for line in data.get("lines") or []],
        )
        return Response(self.OutputSerializer(ret).data, status=replay_status(replayed))

    @staticmethod
    def _purchase_of_store(purchase_id: str, store: Store) -> Purchase:
        found = None
        if (
            purchase_id.isascii()
            and purchase_id.isdigit()
            and len(purchase_id) <= PURCHASE_ID_MAX_DIGITS
        ):
            found = (
                Purchase.objects.select_related("store")
                .filter(pk=int(purchase_id), store=store)
                .first()
            )
        if found is None:
            # Another store's purchase is "not found" too: a till sees only its own.
            raise NotFound(
                _("No purchase %(id)s at this store.") % {"id": purchase_id[:20]}
            )
        return found
