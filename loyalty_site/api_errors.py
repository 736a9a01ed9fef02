"""Every response under /api/ is JSON in the API's error shape, whatever failed.

DRF views answer their own errors through members.api.errors. What happens
outside them used to come back as Django's HTML pages: an unknown /api/ path
(404), a body over DATA_UPLOAD_MAX_MEMORY_SIZE (400), an exception DRF does
not know, such as a lost database connection (500, with the traceback when
DEBUG is on). This middleware answers those in the same shape,
{"detail": "...", "errors": {}}: it refuses a too large body before anything
reads it (413), turns RequestDataTooBig into 413 wherever it is raised, and
replaces any error page that is not JSON. Django still logs the 500 and sends
got_request_exception first; only the page is replaced, so no traceback or
HTML reaches a till.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
# Headers of the replaced page that still mean something to the client.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _detail(status: int) -> str:
    if status == 413:
        return _(
            "The request body is too large: at most %(size)s bytes are accepted."
        ) % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    if status >= 500:
        return _(
            "The server could not complete the request. Send it again in a "
            "moment: a request with the same receipt id is never recorded twice."
        )
    return {
        400: _("The request is malformed."),
        401: _("Send a till token: “Authorization: Token <token>”."),
        403: _("This request is not allowed."),
        404: _("No API operation at this address; see /api/v1/docs/."),
        405: _("This method is not allowed here."),
        429: _("Too many requests; wait and send it again."),
    }.get(status, _("The request failed."))


def api_error_response(status: int) -> JsonResponse:
    """The API's error body for a status, with no field at fault."""
    return JsonResponse({"detail": _detail(status), "errors": {}}, status=status)


def _body_too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == (
        "application/json"
    )


class ApiErrorMiddleware:
    """JSON errors under /api/; see the module docstring. Sits after
    LocaleMiddleware, so its messages follow Accept-Language."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        if _body_too_large(request):
            # Refused before anything reads it: DRF's parsers read the stream
            # themselves and would never apply Django's limit.
            return api_error_response(413)
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response):
            return response
        replaced = api_error_response(response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                replaced[header] = response[header]
        return replaced

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if is_api_request(request) and isinstance(exception, RequestDataTooBig):
            return api_error_response(413)
        return None  # Django logs it and answers; __call__ makes that JSON
