"""Paid membership at the till: the plans on sale, and selling or renewing one.

A sale is idempotent on the store's receipt id like a purchase: the same
request again is a 200 with the first result, the receipt id with another
member or plan a 409.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from members.api.serializers import CardNumberField, PlainIntegerField, error_responses
from members.api.views import PHONE_MAX_LENGTH, TillApiView
from members.errors import NotFound
from rewards.api.base import REPLAY, member_from, replay_status
from rewards.api.serializers import MemberRefSerializer, receipt_field
from rewards.models import MembershipPlan
from rewards.selectors.memberships import membership_plans_on_sale
from rewards.services.memberships import subscription_sell

PLAN_ID_MAX = 2**31 - 1


class MembershipPlanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    period_months = serializers.IntegerField()
    earn_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)
    monthly_reward = serializers.CharField(
        source="monthly_reward.name",
        allow_null=True,
        default=None,
        help_text=_("The reward of the free voucher each month; null for none."),
    )
    guaranteed_tier = serializers.CharField(
        source="guaranteed_tier.name",
        allow_null=True,
        default=None,
        help_text=_("The lowest tier members keep while it lasts; null for none."),
    )

    class Meta:
        ref_name = "MembershipPlan"


class MembershipPlanListApi(TillApiView):
    """The membership plans a till can sell."""

    @extend_schema(
        operation_id="membership_plan_list",
        summary=_("List the membership plans on sale"),
        responses={
            200: MembershipPlanOutputSerializer(many=True),
            **error_responses(401),
        },
        tags=["memberships"],
    )
    def get(self, request: Request) -> Response:
        plans = membership_plans_on_sale()
        return Response(MembershipPlanOutputSerializer(plans, many=True).data)


class MembershipSellApi(TillApiView):
    """Sell a membership to a member, or renew theirs, paid at this till."""

    class InputSerializer(MemberRefSerializer):
        card_number = CardNumberField(required=False, allow_null=True)
        phone = serializers.CharField(
            max_length=PHONE_MAX_LENGTH, required=False, allow_null=True
        )
        plan_id = PlainIntegerField(min_value=1, max_value=PLAN_ID_MAX)
        receipt_id = receipt_field()

        class Meta:
            ref_name = "MembershipSellInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        plan_id = serializers.IntegerField()
        plan = serializers.CharField(source="plan.name")
        status = serializers.CharField(help_text=_("active, cancelled or expired."))
        started_at = serializers.DateTimeField()
        current_period_end = serializers.DateTimeField(
            help_text=_("The membership and its perks last until this time.")
        )

        class Meta:
            ref_name = "MembershipSellOutput"

    @extend_schema(
        operation_id="membership_sell",
        summary=_("Sell or renew a membership"),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description=REPLAY),
            **error_responses(
                400,
                401,
                404,
                409,
                e404=_("No member has this card or phone, or no plan has this id."),
                e409=_(
                    "The receipt id was used before with other details, the plan is "
                    "not on sale, or the member has another plan running."
                ),
            ),
        },
        tags=["memberships"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = member_from(data)
        plan = MembershipPlan.objects.filter(pk=data["plan_id"]).first()
        if plan is None:
            raise NotFound(
                _("No membership plan has the id %(id)s.") % {"id": data["plan_id"]},
                field="plan_id",
            )
        subscription, replayed = subscription_sell(
            member=member,
            plan=plan,
            store=request.auth.store,
            receipt_id=data["receipt_id"],
        )
        return Response(
            self.OutputSerializer(subscription).data, status=replay_status(replayed)
        )
