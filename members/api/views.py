"""POS API for members: enroll at the till, find a member.

A member with their points (member-detail) is rewards.api.members.

One view per operation. Views validate the shape of the input with their
InputSerializer, call one service or selector, and render the OutputSerializer;
refusals are ServiceErrors that members.api.errors turns into JSON.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from members.api.serializers import (
    ERROR_DESCRIPTIONS,
    CardNumberField,
    ErrorSerializer,
    MemberSerializer,
    error_responses,
)
from members.errors import InvalidInput, NotFound
from members.models import ConsentSource, Member, MemberSource
from members.models.members import UTM_MAX_LENGTH
from members.selectors import member_get_by_card, member_get_by_phone
from members.services import UTM_FIELDS, FirstTouch, member_enroll, utm_value_check

PHONE_MAX_LENGTH = 40  # generous: phone_normalize decides what is a number
OLDEST_BIRTHDAY = dt.date(1900, 1, 1)


class TillJSONParser(JSONParser):
    """JSON only, and a body nested too deep for the parser is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                _("JSON parse error - the body is nested too deeply.")
            ) from None


class TillContentNegotiation(DefaultContentNegotiation):
    """DRF's, with a till's usual Accept (none, */* or the one renderer's type,
    and no ?format=) answered without parsing the header. A request without
    a query string (a till's POST) has no ?format= either: its QueryDict,
    which nothing else on such a request reads, is not built for the look."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if len(renderers) == 1 and not format_suffix:
            renderer = renderers[0]
            meta = request.META
            accept = meta.get("HTTP_ACCEPT", "*/*")
            if accept in ("*/*", renderer.media_type) and (
                not meta.get("QUERY_STRING")
                or self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            ):
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class TillAutoSchema(AutoSchema):
    """Every operation lists the errors any request can meet, in the Error shape:
    401 (token), 413 (body too large), 429 (rate limit), 500, and 400 (malformed
    JSON) when it takes a body. loyalty_site.api_errors answers them as JSON."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = [401, 413, 429, 500]
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer():
            codes.append(400)
        for code in codes:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(
                        ErrorSerializer, description=ERROR_DESCRIPTIONS[code]
                    ),
                    str(code),
                    direction=direction,
                )
        return dict(sorted(responses.items()))


class TillApiView(APIView):
    """Base of every till endpoint: JSON in, JSON out, a store token required."""

    parser_classes = [TillJSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = TillContentNegotiation
    schema = TillAutoSchema()


def member_by_card_or_404(
    card_number: str, *, field: str = "card_number", related: bool = True
) -> Member:
    member = member_get_by_card(card_number=card_number, related=related)
    if member is None:
        raise NotFound(
            _("No member has card number %(card)s.") % {"card": card_number},
            field=field,
        )
    return member


def member_by_phone_or_404(
    phone: str, *, field: str = "phone", related: bool = True
) -> Member:
    # InvalidInput (400) when not a phone
    member = member_get_by_phone(phone=phone, related=related)
    if member is None:
        raise NotFound(
            _("No member has phone %(phone)s.") % {"phone": phone}, field=field
        )
    return member


class MemberEnrolledSerializer(ErrorSerializer):
    card_number = serializers.CharField(help_text=_("The card of the existing member."))

    class Meta:
        ref_name = "MemberAlreadyEnrolledError"


def _utm_field(help_text) -> serializers.CharField:
    """An optional utm_* value of the link the customer came by (checked by
    members.services.sources.utm_value_check in the serializer)."""
    return serializers.CharField(
        max_length=UTM_MAX_LENGTH,
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        help_text=help_text,
    )


class MemberCreateApi(TillApiView):
    """Enroll a customer at the till with at least a phone number."""

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(max_length=PHONE_MAX_LENGTH)
        email = serializers.EmailField(
            max_length=254, required=False, allow_blank=True, allow_null=True
        )
        first_name = serializers.CharField(
            max_length=80, required=False, allow_blank=True, allow_null=True
        )
        last_name = serializers.CharField(
            max_length=80, required=False, allow_blank=True, allow_null=True
        )
        birthday = serializers.DateField(required=False, allow_null=True)
        language = serializers.ChoiceField(
            choices=settings.LANGUAGES,
            required=False,
            allow_blank=True,
            allow_null=True,
        )
        referral_code = serializers.CharField(
            max_length=20,
            required=False,
            allow_blank=True,
            allow_null=True,
            help_text=_("A friend's referral code, when the customer has one."),
        )
        device_id = serializers.CharField(
            max_length=64,
            required=False,
            allow_blank=True,
            allow_null=True,
            help_text=_("The customer's app install or device, when known."),
        )
        source = serializers.ChoiceField(
            choices=MemberSource.choices,
            required=False,
            help_text=_(
                "Where the customer came from; default `till` (at this till's "
                "store), `referral` when a referral code is given. `referral` "
                "needs `referral_code`."
            ),
        )
        utm_source = _utm_field(
            _("utm_source of the link the customer came by, e.g. instagram.")
        )
        utm_medium = _utm_field(_("utm_medium of that link, e.g. social or cpc."))
        utm_campaign = _utm_field(_("utm_campaign of that link."))

        class Meta:
            ref_name = "MemberCreateInput"

        def _utm(self, value: str | None, field: str) -> str:
            try:
                return utm_value_check(value, field=field)
            except InvalidInput as exc:
                raise serializers.ValidationError(exc.message) from None

        def validate_utm_source(self, value: str | None) -> str:
            return self._utm(value, "utm_source")

        def validate_utm_medium(self, value: str | None) -> str:
            return self._utm(value, "utm_medium")

        def validate_utm_campaign(self, value: str | None) -> str:
            return self._utm(value, "utm_campaign")

        def validate(self, attrs: dict) -> dict:
            if attrs.get("source") == MemberSource.REFERRAL and not attrs.get(
                "referral_code"
            ):
                raise serializers.ValidationError(
                    {
                        "referral_code": [
                            _("A referral needs the friend's referral code.")
                        ]
                    }
                )
            return attrs

        def validate_birthday(self, value: dt.date | None) -> dt.date | None:
            if (
                value is not None
                and not OLDEST_BIRTHDAY <= value <= timezone.localdate()
            ):
                raise serializers.ValidationError(
                    _("Enter a birthday between 1900 and today.")
                )
            return value

    class OutputSerializer(MemberSerializer):
        class Meta(MemberSerializer.Meta):
            fields = [
                *MemberSerializer.Meta.fields,
                "source",
                "utm_source",
                "utm_medium",
                "utm_campaign",
            ]
            read_only_fields = fields
            ref_name = "MemberCreateOutput"

    @extend_schema(
        operation_id="member_create",
        summary=_("Enroll a member"),
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            **error_responses(400, 401),
            409: OpenApiResponse(
                MemberEnrolledSerializer,
                description=_(
                    "The phone or email is enrolled already; for a phone, `card_number` is that member's card."
                ),
            ),
        },
        tags=["members"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = member_enroll(
            phone=data["phone"],
            email=data.get("email") or None,
            first_name=data.get("first_name") or "",
            last_name=data.get("last_name") or "",
            birthday=data.get("birthday"),
            language=data.get("language") or None,
            store=request.auth.store,
            source=ConsentSource.API,
            referral_code=data.get("referral_code") or None,
            device_id=data.get("device_id") or "",
            member_source=data.get("source"),
            first_touch=FirstTouch(
                **{name: data.get(name) or "" for name in UTM_FIELDS}
            ),
        )
        return Response(
            self.OutputSerializer(member).data, status=status.HTTP_201_CREATED
        )


class MemberLookupApi(TillApiView):
    """Find a member by phone or by card number, as a cashier would."""

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(
            max_length=PHONE_MAX_LENGTH,
            required=False,
            help_text=_("e.g. +380671234567"),
        )
        card = CardNumberField(required=False, help_text=_("Card number, digits only"))

        class Meta:
            ref_name = "MemberLookupInput"

        def validate(self, attrs: dict) -> dict:
            if ("phone" in attrs) == ("card" in attrs):
                message = _("Give either ?phone=… or ?card=…, one of them.")
                raise serializers.ValidationError(
                    {"phone": [message], "card": [message]}
                )
            return attrs

    class OutputSerializer(MemberSerializer):
        class Meta(MemberSerializer.Meta):
            ref_name = "MemberLookupOutput"

    @extend_schema(
        operation_id="member_lookup",
        summary=_("Find a member by phone or card"),
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            **error_responses(
                400, 401, 404, e404=_("No member has this phone or card.")
            ),
        },
        tags=["members"],
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "card" in data:
            member = member_by_card_or_404(data["card"], field="card")
        else:
            member = member_by_phone_or_404(data["phone"])
        return Response(self.OutputSerializer(member).data)
