"""POS API for vouchers: a till validates and consumes a member's voucher."""

from __future__ import annotations

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

from members.api.serializers import ErrorSerializer, error_responses
from members.api.views import TillApiView
from rewards.api.base import replay_status
from rewards.api.serializers import receipt_field
from rewards.services.vouchers import voucher_consume, voucher_validate

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
        return Response(output.data, status=replay_status(replayed))
