"""Pages and endpoints of delivery: unsubscribe, the open pixel, tracked clicks
and the webhooks of the email provider, the SMS gateway and the Viber provider.

None needs a login: links are signed (campaigns.messaging.tracking), webhooks carry a
shared token. Thin views: the writes are campaigns.messaging.consent / campaigns.messaging.tracking.
"""

from __future__ import annotations

import base64
import hmac
import json

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.messaging.consent import (
    leave_question_for_unsubscribe,
    sms_stop_record,
    unsubscribe_from_message,
)
from campaigns.messaging.tracking import (
    SALT_CLICK,
    SALT_OPEN,
    SALT_UNSUBSCRIBE,
    message_by_signed,
    message_click_record,
    message_click_targets,
    message_failure_record,
    message_open_record,
)
from campaigns.messaging.viber import viber_report_record
from campaigns.models import Message
from members.models import Channel

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/link_invalid.html", status=400)


@csrf_exempt  # the signed link is the credential; mail clients POST without a form
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, signed: str) -> HttpResponse:
    """GET asks to confirm (link checkers open links and must not unsubscribe
    anyone); POST withdraws consent, from our page or a mail client's one-click
    (RFC 8058: body `List-Unsubscribe=One-Click`)."""
    message = message_by_signed(signed, salt=SALT_UNSUBSCRIBE)
    if message is None:
        return _invalid(request)
    channel_name = {Channel.EMAIL: _("email"), Channel.SMS: _("SMS")}.get(
        message.channel, Channel(message.channel).label
    )
    context = {"message": message, "channel_name": channel_name, "done": False}
    if request.method == "POST":
        unsubscribe_from_message(message=message)
        context["done"] = True
        context.update(leave_question_for_unsubscribe(message=message))
    return render(request, "campaigns/unsubscribe.html", context)


@never_cache
@require_GET
def track_open(request: HttpRequest, signed: str) -> HttpResponse:
    message = message_by_signed(signed, salt=SALT_OPEN)
    if message is None:
        return HttpResponse(status=400)
    message_open_record(message=message)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def track_click(request: HttpRequest, signed: str, index: int) -> HttpResponse:
    """Redirect to the `index`-th link of the message's own text, nowhere else."""
    message = message_by_signed(signed, salt=SALT_CLICK)
    links = message_click_targets(message) if message is not None else []
    if message is None or index >= len(links):
        return _invalid(request)
    message_click_record(message=message)
    return HttpResponseRedirect(links[index])


# --- webhooks -------------------------------------------------------------------------


def _token_ok(request: HttpRequest, expected: str) -> bool:
    if not expected:
        return False
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else request.GET.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _json(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _error(field: str, detail: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"field": field, "detail": detail}, status=status)


def _find(reference: str) -> Message | None:
    reference = (reference or "").strip().strip("<>")
    if not reference:
        return None
    return Message.objects.filter(Q(token=reference) | Q(provider_id=reference)).first()


@csrf_exempt
@require_POST
def email_webhook(request: HttpRequest) -> JsonResponse:
    """The email provider's events, with `Authorization: Bearer EMAIL_WEBHOOK_TOKEN`
    (or ?token=): `{"event": "bounce"|"complaint", "message_id": "<Message-ID or
    our X-Loyalty-Message token>", "reason": "..."}`. A bounce fails the message;
    a complaint ("this is spam") also withdraws email consent."""
    if not _token_ok(request, settings.EMAIL_WEBHOOK_TOKEN):
        return _error("token", "Missing or wrong webhook token.", 403)
    data = _json(request)
    if data is None:
        return _error("body", "Send a JSON object.")
    event = data.get("event")
    if event not in ("bounce", "complaint", "delivered"):
        return _error("event", "One of: bounce, complaint, delivered.")
    message = _find(str(data.get("message_id") or data.get("token") or ""))
    if message is None:
        return _error("message_id", "No message with this id.", 404)
    changed = False
    if event == "bounce":
        reason = str(data.get("reason") or "no reason given")
        changed = message_failure_record(message=message, reason=f"Bounced: {reason}")
    elif event == "complaint":
        changed = unsubscribe_from_message(message=message)
    return JsonResponse({"ok": True, "changed": changed})


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest) -> JsonResponse:
    """The SMS gateway's callbacks, with `Authorization: Bearer
    SMS_GATEWAY_WEBHOOK_TOKEN` (or ?token=). A delivery report:
    `{"type": "report", "id" or "reference": ..., "status": "delivered"|"failed",
    "error": "..."}`; an inbound SMS: `{"type": "inbound", "from": "+380...",
    "text": "STOP"}` (a STOP withdraws SMS consent)."""
    if not _token_ok(request, settings.SMS_GATEWAY_WEBHOOK_TOKEN):
        return _error("token", "Missing or wrong webhook token.", 403)
    data = _json(request)
    if data is None:
        return _error("body", "Send a JSON object.")
    kind = data.get("type")
    if kind == "inbound":
        if not data.get("from"):
            return _error("from", "The sender's phone number is required.")
        member = sms_stop_record(
            phone=str(data["from"]), text=str(data.get("text", ""))
        )
        return JsonResponse({"ok": True, "unsubscribed": member is not None})
    if kind == "report":
        status = data.get("status")
        if status not in ("delivered", "failed"):
            return _error("status", "One of: delivered, failed.")
        message = _find(str(data.get("reference") or data.get("id") or ""))
        if message is None:
            return _error("id", "No message with this id or reference.", 404)
        changed = False
        if status == "failed":
            reason = str(data.get("error") or "no reason given")
            changed = message_failure_record(
                message=message, reason=f"Gateway report: {reason}"
            )
        return JsonResponse({"ok": True, "changed": changed})
    return _error("type", "One of: report, inbound.")


@csrf_exempt
@require_POST
def viber_webhook(request: HttpRequest) -> JsonResponse:
    """The Viber provider's delivery reports, with `Authorization: Bearer
    VIBER_WEBHOOK_TOKEN` (or ?token=, for a provider that only takes a URL).
    One report is a message's status as TurboSMS's `message/status.json` gives
    it: `{"message_id": "<the provider's id, or our token>", "status":
    "Delivered"|"Read"|"Undelivered"|"Expired"|"Rejected"|...}`; several come as
    that method's answer, `{"response_result": [report, ...]}`. Not delivered
    sends the message by SMS instead (campaigns.messaging.viber)."""
    if not _token_ok(request, settings.VIBER_WEBHOOK_TOKEN):
        return _error("token", "Missing or wrong webhook token.", 403)
    data = _json(request)
    if data is None:
        return _error("body", "Send a JSON object.")
    batch = isinstance(data.get("response_result"), list)
    reports = data["response_result"] if batch else [data]
    for report in reports:
        if not isinstance(report, dict) or not str(report.get("message_id") or ""):
            return _error("message_id", "Each report needs the message_id.")
        if not isinstance(report.get("status"), str) or not report["status"].strip():
            return _error("status", "Each report needs the status, e.g. Delivered.")
    changed, unknown = 0, []
    for report in reports:
        message = _find(str(report["message_id"]))
        if message is None or message.channel != Channel.VIBER:
            unknown.append(str(report["message_id"])[:100])
            continue
        changed += viber_report_record(message=message, status=report["status"])
    if unknown and not batch:
        return _error("message_id", "No Viber message with this id.", 404)
    return JsonResponse({"ok": True, "changed": changed, "unknown": unknown})
