"""POS API: a member as the till sees them, with their points and recent
activity (GET /api/v1/members/<card>, "member-detail").

Enrolling and finding a member are members.api; this endpoint shows points,
so it lives with them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from members.api.serializers import CardNumberField, MemberSerializer, error_responses
from members.api.views import TillApiView, member_by_card_or_404
from members.errors import NotFound
from members.models import Member
from rewards.models import LedgerEntry
from rewards.reasons import reasons_names_load
from rewards.selectors.ledger import ledger_entries_for_member, points_available_get

RECENT_ACTIVITY = 10


class LedgerEntrySerializer(serializers.ModelSerializer):
    reason = serializers.CharField(
        source="reason_text",
        read_only=True,
        help_text=_("Why the points moved, in the language of Accept-Language."),
    )
    reason_code = serializers.CharField(
        read_only=True,
        help_text=_(
            "What the system wrote (purchase_earn, points_expired, ...); empty "
            "for a reason a staff member typed."
        ),
    )
    reason_params = serializers.JSONField(
        read_only=True, help_text=_("The parameters of the reason code.")
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "kind",
            "points",
            "balance_after",
            "created_at",
            "reason",
            "reason_code",
            "reason_params",
        ]
        ref_name = "LedgerEntry"


class MemberDetailApi(TillApiView):
    """A member with their balance and the last ledger entries, in a fixed number of queries."""

    class OutputSerializer(MemberSerializer):
        points_spendable = serializers.SerializerMethodField(
            help_text=_("Points that can be redeemed now.")
        )
        points_pending = serializers.SerializerMethodField(
            help_text=_("Points from recent purchases that cannot be spent yet.")
        )
        tier = serializers.CharField(
            source="account.tier.name",
            default=None,
            allow_null=True,
            read_only=True,
            help_text=_("The member's tier; null when in none."),
        )
        recent_activity = serializers.SerializerMethodField()

        class Meta(MemberSerializer.Meta):
            fields = [
                *MemberSerializer.Meta.fields,
                "points_spendable",
                "points_pending",
                "tier",
                "recent_activity",
            ]
            read_only_fields = fields
            ref_name = "MemberDetailOutput"

        def _lots(self, member: Member) -> tuple[int, int]:
            if not hasattr(self, "_lots_seen"):
                self._lots_seen = points_available_get(account=member.account)
            return self._lots_seen

        @extend_schema_field(serializers.IntegerField())
        def get_points_spendable(self, member: Member) -> int:
            return self._lots(member)[0]

        @extend_schema_field(serializers.IntegerField())
        def get_points_pending(self, member: Member) -> int:
            return self._lots(member)[1]

        @extend_schema_field(LedgerEntrySerializer(many=True))
        def get_recent_activity(self, member: Member) -> list[dict]:
            entries = list(
                ledger_entries_for_member(member_id=member.pk)[:RECENT_ACTIVITY]
            )
            reasons_names_load(entries)
            return LedgerEntrySerializer(entries, many=True).data

    @extend_schema(
        operation_id="member_detail",
        summary=_("A member with recent activity"),
        parameters=[
            OpenApiParameter(
                "card_number",
                str,
                OpenApiParameter.PATH,
                description=_("Card number, digits only"),
            )
        ],
        responses={
            200: OutputSerializer,
            **error_responses(401, 404, e404=_("No member has this card number.")),
        },
        tags=["members"],
    )
    def get(self, request: Request, card_number: str) -> Response:
        field = CardNumberField()
        try:
            card = field.run_validation(card_number)
        except serializers.ValidationError:
            card = None
        if not card:
            raise NotFound(
                _("No member has card number %(card)s.") % {"card": card_number[:40]},
                field="card_number",
            )
        member = member_by_card_or_404(card)
        return Response(self.OutputSerializer(member).data)
