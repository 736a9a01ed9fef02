"""A till's daily sales total of its store, for participation (the members'
share of all sales): analytics.services.inputs.store_sales_report.

Idempotent per store and day: the same figures again are a 200 with the first
result, other figures for a day already there a 409 (a manager corrects a day
in the admin).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.services.inputs import MAX_RECEIPTS, MAX_SALES, store_sales_report
from members.api.serializers import (
    PlainDecimalField,
    PlainIntegerField,
    error_responses,
)
from members.api.views import TillApiView

REPLAY = _(
    "A replay: this store sent the same figures for this day before; the body is "
    "the first result."
)


class StoreSalesReportApi(TillApiView):
    """Report the till's store's total sales of one day (all customers)."""

    class InputSerializer(serializers.Serializer):
        date = serializers.DateField(
            help_text=_("The day the total is for (YYYY-MM-DD), not in the future.")
        )
        total_sales = PlainDecimalField(
            max_digits=14,
            decimal_places=2,
            min_value=0,
            max_value=MAX_SALES,
            help_text=_("All sales of the store that day, members or not."),
        )
        receipts = PlainIntegerField(
            min_value=0,
            max_value=MAX_RECEIPTS,
            required=False,
            default=0,
            help_text=_("The number of receipts that day (optional)."),
        )

        class Meta:
            ref_name = "StoreSalesReportInput"

    class OutputSerializer(serializers.Serializer):
        store = serializers.CharField(source="store.code")
        date = serializers.DateField(source="day")
        total_sales = serializers.DecimalField(
            source="total", max_digits=14, decimal_places=2
        )
        receipts = serializers.IntegerField()
        created_at = serializers.DateTimeField()

        class Meta:
            ref_name = "StoreSalesReportOutput"

    @extend_schema(
        operation_id="store_sales_report",
        summary=_("Report a day's total sales of the store"),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description=REPLAY),
            **error_responses(
                400,
                401,
                409,
                e409=_(
                    "This store's sales of the day were sent before with other "
                    "figures; `errors` names the field that differs."
                ),
            ),
        },
        tags=["store sales"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row, replayed = store_sales_report(
            store=request.auth.store,
            day=data["date"],
            total=data["total_sales"],
            receipts=data["receipts"],
        )
        return Response(
            self.OutputSerializer(row).data,
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
        )
