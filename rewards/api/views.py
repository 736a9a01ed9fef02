"""POS API for points: purchases earn, returns claw back, redemptions spend.

Every write is idempotent on the store's receipt id: the same request again is a
200 with the first result, the same receipt id with other details a 409. The
services decide both; the views only validate shapes and pick the status.
"""

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
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from members.api.serializers import CardNumberField, ErrorSerializer, error_responses
from members.api.views import (
    PHONE_MAX_LENGTH,
    TillApiView,
    member_by_card_or_404,
    member_by_phone_or_404,
)
from members.errors import InvalidInput, NotFound
from members.models import Member, Store
from rewards.api.serializers import (
    MAX_LINES,
    DateTimeField,
    EarnBreakdownSerializer,
    MemberRefSerializer,
    PurchaseLineSerializer,
    ReturnLineSerializer,
    money_field,
    points_field,
    receipt_field,
)
from rewards.models import LedgerEntry, LedgerKind, Purchase, StampEntry, StampEntryKind
from rewards.selectors.stamps import stamp_progress_for_purchase
from rewards.services import (
    LineInput,
    ReturnLineInput,
    points_redeem,
    purchase_record,
    purchase_return_record,
    purchase_time_check,
    voucher_consume,
    voucher_validate,
)

PURCHASE_ID_MAX_DIGITS = (
    18  # below bigint's 19, so a long id is "not found", not an overflow
)

REPLAY = _(
    "A replay: this store sent the same receipt id with the same details before; "
    "the body is the first result."
)
RECEIPT_CONFLICT = _("This store used the receipt id before with other details.")


def _store_zone(store: Store) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(store.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def _status(replayed: bool) -> int:
    return status.HTTP_200_OK if replayed else status.HTTP_201_CREATED


def _member_from(data: dict) -> Member:
    """The member a purchase is for: the row alone, purchase_record needs no more."""
    if "card_number" in data:
        return member_by_card_or_404(data["card_number"], related=False)
    return member_by_phone_or_404(data["phone"], related=False)


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

        class Meta:
            ref_name = "PurchaseCreateOutput"

        # The view reads both details in one query (_earn_details) and passes
        # them as context["breakdown"] and context["stamped"].
        @extend_schema_field(EarnBreakdownSerializer(many=True))
        def get_points_breakdown(self, purchase: Purchase) -> list[dict]:
            return [
                {key: item.get(key) for key in ("stage", "rule", "name", "points")}
                for item in self.context["breakdown"]
            ]

        @extend_schema_field(PurchaseStampSerializer(many=True))
        def get_stamps(self, purchase: Purchase) -> list[dict]:
            if not self.context["stamped"]:
                return []
            return PurchaseStampSerializer(
                stamp_progress_for_purchase(purchase=purchase), many=True
            ).data

    @extend_schema(
        operation_id="purchase_create",
        summary=_("Record a purchase"),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description=REPLAY),
            **error_responses(
                400,
                401,
                404,
                409,
                e404=_("No member has this card or phone."),
                e409=RECEIPT_CONFLICT,
            ),
        },
        tags=["purchases"],
    )
    def post(self, request: Request) -> Response:
        store = request.auth.store
        serializer = self.InputSerializer(data=request.data)
        with timezone.override(_store_zone(store)):
            serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        purchase, replayed = purchase_record(
            store=store,
            member=_member_from(data),
            receipt_id=data["receipt_id"],
            total=data["total"],
            lines=[LineInput(**line) for line in data.get("lines") or []],
            occurred_at=data.get("occurred_at"),
            source=Purchase.Source.API,
        )
        breakdown, stamped = _earn_details(purchase)
        output = self.OutputSerializer(
            purchase, context={"breakdown": breakdown, "stamped": stamped}
        )
        return Response(output.data, status=_status(replayed))


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
        return Response(self.OutputSerializer(ret).data, status=_status(replayed))

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


class RedemptionConflictSerializer(ErrorSerializer):
    balance = serializers.IntegerField(
        required=False, help_text=_("The balance, when it was too small.")
    )

    class Meta:
        ref_name = "RedemptionConflictError"


class RedemptionCreateApi(TillApiView):
    """Spend a member's points as a discount on a receipt."""

    class InputSerializer(serializers.Serializer):
        card_number = CardNumberField()
        points = points_field()
        receipt_id = receipt_field()

        class Meta:
            ref_name = "RedemptionCreateInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        points = serializers.IntegerField()
        discount = serializers.DecimalField(
            max_digits=12,
            decimal_places=2,
            help_text=_('Money off the receipt, e.g. "10.00".'),
        )
        points_balance = serializers.IntegerField(
            source="balance_after",
            help_text=_("The member's balance right after this redemption."),
        )

        class Meta:
            ref_name = "RedemptionCreateOutput"

    @extend_schema(
        operation_id="redemption_create",
        summary=_("Redeem points for a discount"),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description=REPLAY),
            **error_responses(400, 401, 404, e404=_("No member has this card number.")),
            409: OpenApiResponse(
                RedemptionConflictSerializer,
                description=_(
                    "Not enough points (the message and `balance` state the balance), "
                    "or the receipt id was used before with other details."
                ),
            ),
        },
        tags=["redemptions"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        redemption, replayed = points_redeem(
            member=member_by_card_or_404(data["card_number"]),
            store=request.auth.store,
            points=data["points"],
            receipt_id=data["receipt_id"],
        )
        return Response(
            self.OutputSerializer(redemption).data, status=_status(replayed)
        )


# --- vouchers ------------------------------------------------------------------------

VOUCHER_CODE_PARAMETER = OpenApiParameter(
    "code",
    str,
    OpenApiParameter.PATH,
    description=_(
        'The voucher code as printed, e.g. "K7PQ2-XM9RD"; case and dashes do not matter.'
    ),
)


class VoucherOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.CharField(help_text=_("issued, used, cancelled or expired."))
    reward = serializers.CharField(source="reward.name")
    reward_type = serializers.CharField(
        source="reward.type", help_text=_("fixed, percent, product or gift.")
    )
    value = serializers.DecimalField(
        source="reward.value",
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text=_(
            "Money off, or a percentage for a percent discount; null for products and gifts."
        ),
    )
    expires_at = serializers.DateTimeField()
    valid = serializers.BooleanField(
        source="is_valid", help_text=_("Whether the till may accept it now.")
    )
    reason = serializers.CharField(
        allow_blank=True, help_text=_("Why it may not be used; empty when valid.")
    )
    used_at = serializers.DateTimeField(allow_null=True)
    used_receipt_id = serializers.SerializerMethodField(
        help_text=_(
            "The receipt it was used on, when used at this store; empty otherwise."
        )
    )

    class Meta:
        ref_name = "Voucher"

    @extend_schema_field(serializers.CharField(allow_blank=True))
    def get_used_receipt_id(self, voucher) -> str:
        # Another store's receipt is not this till's business (as in voucher_refusal).
        if voucher.used_store_id != self.context["store"].pk:
            return ""
        return voucher.used_receipt_id


class VoucherConflictSerializer(ErrorSerializer):
    status = serializers.CharField(help_text=_("The voucher's status."))

    class Meta:
        ref_name = "VoucherConflictError"


class VoucherValidateApi(TillApiView):
    """Check a voucher a customer shows: what it gives and whether it can be used now."""

    @extend_schema(
        operation_id="voucher_validate",
        summary=_("Check a voucher"),
        parameters=[VOUCHER_CODE_PARAMETER],
        request=None,
        responses={
            200: VoucherOutputSerializer,
            **error_responses(401, 404, e404=_("No voucher has this code.")),
        },
        tags=["vouchers"],
    )
    def post(self, request: Request, code: str) -> Response:
        voucher = voucher_validate(code=code, store=request.auth.store)
        output = VoucherOutputSerializer(voucher, context={"store": request.auth.store})
        return Response(output.data)


class VoucherConsumeApi(TillApiView):
    """Use a voucher on a receipt; a retry with the same receipt id is answered again."""

    class InputSerializer(serializers.Serializer):
        receipt_id = receipt_field()

        class Meta:
            ref_name = "VoucherConsumeInput"

    @extend_schema(
        operation_id="voucher_consume",
        summary=_("Use a voucher"),
        parameters=[VOUCHER_CODE_PARAMETER],
        request=InputSerializer,
        responses={
            201: VoucherOutputSerializer,
            200: OpenApiResponse(
                VoucherOutputSerializer,
                description=_(
                    "A replay: this store used the voucher on this receipt before."
                ),
            ),
            **error_responses(400, 401, 404, e404=_("No voucher has this code.")),
            409: OpenApiResponse(
                VoucherConflictSerializer,
                description=_(
                    "Already used (the message says when), expired or cancelled."
                ),
            ),
        },
        tags=["vouchers"],
    )
    def post(self, request: Request, code: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voucher, replayed = voucher_consume(
            code=code,
            store=request.auth.store,
            receipt_id=serializer.validated_data["receipt_id"],
        )
        voucher.is_valid, voucher.reason = False, ""
        output = VoucherOutputSerializer(voucher, context={"store": request.auth.store})
        return Response(output.data, status=_status(replayed))
