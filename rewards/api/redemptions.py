"""POS API for redemptions: points spent as a discount on a receipt."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from members.api.serializers import CardNumberField, ErrorSerializer, error_responses
from members.api.views import TillApiView, member_by_card_or_404
from rewards.api.base import REPLAY, replay_status
from rewards.api.serializers import points_field, receipt_field
from rewards.services.redemptions import points_redeem


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
            self.OutputSerializer(redemption).data, status=replay_status(replayed)
        )
