"""Every API error is JSON: {"detail": "...", "errors": {"field": ["message", ...]}}."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from members.errors import ServiceError


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors" and prefix:
                # A nested object's or list's own error belongs to it: "lines", not
                # "lines.non_field_errors".
                out.update(_flatten(value, prefix))
            elif isinstance(key, int):  # a ListSerializer's errors by item index
                out.update(_flatten(value, f"{prefix}[{key}]"))
            else:
                out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            out[prefix or "non_field_errors"] = [str(v) for v in detail]
        else:
            for i, value in enumerate(detail):
                if value:
                    out.update(_flatten(value, f"{prefix}[{i}]"))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def service_error_response(exc: ServiceError) -> Response:
    field = exc.field or "non_field_errors"
    body = {"detail": exc.message, "errors": {field: [exc.message]}}
    body.update({k: v for k, v in exc.extra.items() if isinstance(v, str | int)})
    return Response(body, status=exc.status)


def api_exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return service_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        # Django calls it a SuspiciousOperation (400); it is a 413.
        exc = RequestBodyTooLarge()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail) or {"non_field_errors": [str(exc.default_detail)]}
        field, messages = next(iter(errors.items()))
        response.data = {"detail": f"{field}: {messages[0]}", "errors": errors}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    return response
