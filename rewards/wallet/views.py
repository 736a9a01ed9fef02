"""The member's two buttons (the signed .pkpass, the Google save link) and
Apple's pass web service, as Apple documents it ("Adding a Web Service to
Update Passes"), under /wallet/apple/v1/:

    POST   devices/<device>/registrations/<passType>/<serial>  201 new, 200 known, 401
    DELETE devices/<device>/registrations/<passType>/<serial>  200, 401
    GET    devices/<device>/registrations/<passType>?passesUpdatedSince=<tag>
                                                   200 {serialNumbers, lastUpdated}, 204
    GET    passes/<passType>/<serial>              200 the pass, 304 not modified, 401
    POST   log                                     200

A device proves itself with "Authorization: ApplePass <authenticationToken>"
(the token inside the pass). Another pass type than ours is a 404.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from members.models import Member
from members.views import member_required
from rewards.models import WalletPass
from rewards.wallet import google
from rewards.wallet.config import apple_wallet_enabled, google_wallet_enabled
from rewards.wallet.content import wallet_card_get
from rewards.wallet.pkpass import PKPASS_CONTENT_TYPE, pkpass_build
from rewards.wallet.services import (
    apple_device_register,
    apple_device_unregister,
    wallet_pass_ensure,
    wallet_pass_google_saved,
)

logger = logging.getLogger("rewards.wallet")
LOG_LINES = 50  # at most this many lines of one device's log are kept
LOG_CHARS = 500


def _not_found() -> JsonResponse:
    return JsonResponse({"detail": _("Not found.")}, status=404)


def _unauthorized() -> HttpResponse:
    return JsonResponse({"detail": _("Not authorized.")}, status=401)


def _ours(pass_type: str) -> bool:
    return apple_wallet_enabled() and pass_type == settings.WALLET_APPLE_PASS_TYPE_ID


def _authorized_pass(request, serial: str) -> WalletPass | None:
    """The pass `serial` when the request carries its token, else None."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "ApplePass" or not token:
        return None
    wallet_pass = (
        WalletPass.objects.select_related("member").filter(serial_number=serial).first()
    )
    if wallet_pass is None or not hmac.compare_digest(
        wallet_pass.auth_token.encode(), token.strip().encode()
    ):
        return None
    return wallet_pass


def _pkpass_response(wallet_pass: WalletPass) -> HttpResponse:
    try:
        body = pkpass_build(wallet_card_get(member=wallet_pass.member), wallet_pass)
    except (OSError, ValueError, TypeError):
        # The certificate files are missing or wrong (check --deploy says which).
        logger.exception(
            "Wallet pass %s could not be signed", wallet_pass.serial_number
        )
        return JsonResponse(
            {"detail": _("The wallet pass cannot be made right now.")}, status=503
        )
    response = HttpResponse(body, content_type=PKPASS_CONTENT_TYPE)
    response["Last-Modified"] = http_date(wallet_pass.updated_at.timestamp())
    response["Cache-Control"] = "no-cache"
    return response


# --- The member's buttons ------------------------------------------------------------


@require_GET
@never_cache
@member_required
def apple_pass_download(request, member: Member):
    """The member's card as a signed .pkpass (Safari offers to add it)."""
    if not apple_wallet_enabled():
        return _not_found()
    wallet_pass = wallet_pass_ensure(member=member)
    wallet_pass.member = member
    response = _pkpass_response(wallet_pass)
    if response.status_code == 200:
        response["Content-Disposition"] = 'attachment; filename="card.pkpass"'
    return response


@require_GET
@never_cache
@member_required
def google_save(request, member: Member):
    """On to Google's "save" page with the member's object in a signed JWT."""
    if not google_wallet_enabled():
        return _not_found()
    wallet_pass = wallet_pass_ensure(member=member)
    wallet_pass_google_saved(
        wallet_pass=wallet_pass, object_id=google.object_id(wallet_pass)
    )
    try:
        url = google.save_url(wallet_card_get(member=member), wallet_pass)
    except (OSError, ValueError, KeyError, TypeError):
        logger.exception("Google Wallet save link for %s failed", wallet_pass.pk)
        return JsonResponse(
            {"detail": _("The wallet pass cannot be made right now.")}, status=503
        )
    return redirect(url)


# --- Apple's pass web service --------------------------------------------------------


@csrf_exempt
@require_http_methods(["POST", "DELETE"])
def apple_registration(request, device: str, pass_type: str, serial: str):
    """Register a device for a pass's update pushes (POST), or unregister (DELETE)."""
    if not _ours(pass_type):
        return _not_found()
    wallet_pass = _authorized_pass(request, serial)
    if wallet_pass is None:
        return _unauthorized()
    if request.method == "DELETE":
        apple_device_unregister(wallet_pass=wallet_pass, device_library_id=device)
        return HttpResponse(status=200)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = None
    push_token = body.get("pushToken") if isinstance(body, dict) else None
    if not isinstance(push_token, str) or not push_token.strip():
        return JsonResponse(
            {"pushToken": [_("Send the device's push token as pushToken.")]},
            status=400,
        )
    created = apple_device_register(
        wallet_pass=wallet_pass,
        device_library_id=device[:128],
        push_token=push_token.strip()[:256],
    )
    return HttpResponse(status=201 if created else 200)


@require_GET
def apple_serials(request, device: str, pass_type: str):
    """The serial numbers of this device's passes changed since the tag it
    was last given (all of them without a tag); 204 when none."""
    if not _ours(pass_type):
        return _not_found()
    passes = WalletPass.objects.filter(apple_registrations__device_library_id=device)
    since = request.GET.get("passesUpdatedSince", "").strip()
    if since:
        try:
            moment = dt.datetime.fromtimestamp(int(since), tz=dt.UTC)
        except (ValueError, OverflowError, OSError):
            return JsonResponse(
                {"passesUpdatedSince": [_("Give the tag the last answer returned.")]},
                status=400,
            )
        passes = passes.filter(updated_at__gt=moment)
    found = list(passes.values_list("serial_number", "updated_at"))
    if not found:
        return HttpResponse(status=204)
    last = max(updated for _serial, updated in found)
    return JsonResponse(
        {
            "serialNumbers": sorted(serial for serial, _updated in found),
            "lastUpdated": str(int(last.timestamp())),
        }
    )


@require_GET
def apple_pass(request, pass_type: str, serial: str):
    """The latest version of a pass; 304 when it has not changed since the
    device's If-Modified-Since."""
    if not _ours(pass_type):
        return _not_found()
    wallet_pass = _authorized_pass(request, serial)
    if wallet_pass is None:
        return _unauthorized()
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    modified = int(wallet_pass.updated_at.timestamp())
    if since is not None and modified <= since:
        response = HttpResponse(status=304)
        response["Last-Modified"] = http_date(modified)
        return response
    return _pkpass_response(wallet_pass)


@csrf_exempt
@require_http_methods(["POST"])
def apple_log(request):
    """Devices report what went wrong with our passes: into the log."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        body = None
    logs = body.get("logs") if isinstance(body, dict) else None
    if not isinstance(logs, list):
        return JsonResponse(
            {"logs": [_("Send the messages as a list named logs.")]}, status=400
        )
    for line in logs[:LOG_LINES]:
        logger.warning("Apple Wallet device log: %s", str(line)[:LOG_CHARS])
    return HttpResponse(status=200)
