"""The Bot API's webhook: Telegram POSTs each update here with the secret given
to setWebhook in X-Telegram-Bot-Api-Secret-Token (`manage.py
telegram_webhook_set`)."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.telegram.bot import telegram_update_handle

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """403 without the right secret (none set: every call refused), 400 for a
    body that is not an update; otherwise 200 whatever the update asked, so
    that Telegram does not send it again and again: an update that broke the
    handler is logged (and rolled back), not retried. The bot's answers go
    through Celery after the commit: this request never waits for the Bot API
    (Telegram waits for it, and a slow Bot API would hold a web worker)."""
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return JsonResponse({"detail": "Wrong or missing secret token."}, status=403)
    try:
        update = json.loads(request.body)
    except ValueError:
        update = None
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return JsonResponse(
            {"update_id": ["An update object with an update_id is expected."]},
            status=400,
        )
    try:
        telegram_update_handle(update=update, queue=True)
    except Exception:
        log.exception("Telegram update %s could not be handled", update["update_id"])
    return JsonResponse({"ok": True})
