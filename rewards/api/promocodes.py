"""POS API for promo codes: a till checks what a code gives on a basket."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from members.api.serializers import CardNumberField, ErrorSerializer
from members.api.views import PHONE_MAX_LENGTH, TillApiView
from rewards.api.base import member_from
from rewards.api.serializers import MemberRefSerializer, money_field
from rewards.models import PromoEffect
from rewards.services.promocodes import REFUSALS, promo_code_validate

PROMO_CODE_PARAMETER = OpenApiParameter(
    "code",
    str,
    OpenApiParameter.PATH,
    description=_(
        'The code as the customer gave it, e.g. "SPRING25"; case, '
        "spaces and dashes do not matter."
    ),
)


class PromoErrorSerializer(ErrorSerializer):
    reason = serializers.ChoiceField(
        choices=sorted(REFUSALS),
        required=False,
        help_text=_(
            "Why the code cannot be used, for the till to act on; absent for "
            "errors of the request's shape."
        ),
    )

    class Meta:
        ref_name = "PromoCodeError"


def promo_error_responses(**descriptions: str) -> dict:
    """The error statuses of the promo code endpoints, with a reason code."""
    texts = {
        400: _(
            "Invalid input, or the code does not apply (reason: inactive, "
            "not_yet_valid, expired, wrong_store, below_min_spend, "
            "not_eligible_tier, not_eligible_segment)."
        ),
        401: _("No till token, or an invalid or revoked one."),
        404: _(
            "No member has this card or phone, or no promo code is this one "
            "(reason: unknown)."
        ),
        409: _(
            "The code's limits are reached (reason: limit_reached, "
            "member_limit_reached, day_limit_reached)."
        ),
    }
    texts.update({int(k[1:]): v for k, v in descriptions.items()})
    return {
        status: OpenApiResponse(PromoErrorSerializer, description=text)
        for status, text in texts.items()
    }


class PromoCodeValidateApi(TillApiView):
    """What a promo code gives on this basket for this member, or why not."""

    class InputSerializer(MemberRefSerializer):
        card_number = CardNumberField(required=False, allow_null=True)
        phone = serializers.CharField(
            max_length=PHONE_MAX_LENGTH, required=False, allow_null=True
        )
        total = money_field(
            help_text=_('The basket before the code\'s discount, e.g. "412.50".')
        )

        class Meta:
            ref_name = "PromoCodeValidateInput"

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField(help_text=_("The code as it is kept."))
        promo = serializers.CharField(source="promo.name")
        effect = serializers.ChoiceField(
            source="promo.effect", choices=PromoEffect.choices
        )
        discount = serializers.DecimalField(
            max_digits=12,
            decimal_places=2,
            help_text=_("Money the till takes off this basket; 0 for other effects."),
        )
        total_to_pay = serializers.DecimalField(max_digits=12, decimal_places=2)
        bonus_points = serializers.IntegerField(
            source="points", help_text=_("Points the code adds; 0 for other effects.")
        )
        multiplier = serializers.DecimalField(
            max_digits=6,
            decimal_places=2,
            allow_null=True,
            help_text=_("What the purchase's points are multiplied by, or null."),
        )
        reward = serializers.CharField(
            source="promo.reward.name",
            allow_null=True,
            default=None,
            help_text=_("The reward whose voucher the code gives, or null."),
        )
        stacking = serializers.CharField(
            source="promo.stacking",
            help_text=_("stack, replace or best_of: how it goes with promotions."),
        )

        class Meta:
            ref_name = "PromoCodeOffer"

    @extend_schema(
        operation_id="promo_code_validate",
        summary=_("Check a promo code"),
        parameters=[PROMO_CODE_PARAMETER],
        request=InputSerializer,
        responses={200: OutputSerializer, **promo_error_responses()},
        tags=["promo codes"],
    )
    def post(self, request: Request, code: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        offer = promo_code_validate(
            code=code,
            member=member_from(data),
            store=request.auth.store,
            total=data["total"],
        )
        offer.total_to_pay = data["total"] - offer.discount
        return Response(self.OutputSerializer(offer).data)
