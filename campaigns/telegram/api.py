"""The Telegram Bot API over plain HTTPS (https://core.telegram.org/bots/api):
POST https://api.telegram.org/bot<token>/<method>, JSON in (multipart for a
photo), `{"ok": true, "result": ...}` or `{"ok": false, "error_code",
"description", "parameters": {"retry_after"}}` out.

No bot library: the few methods used here are plain HTTP calls made from sync
code (Django views, Celery tasks), and both python-telegram-bot and aiogram are
asyncio-only (docs/decisions/telegram-bot.md)."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request

from django.conf import settings

from campaigns.messaging.backends import DeliveryError


class TelegramError(DeliveryError):
    """A Bot API call failed. `code` is the HTTP status (0 when there was no
    answer); 429, 5xx and no answer are transient. `blocked`: the user blocked
    the bot or deleted their account (403): nothing will reach that chat."""

    def __init__(self, message: str, *, code: int, transient: bool) -> None:
        super().__init__(message, transient=transient)
        self.code = code
        self.blocked = code == 403


def telegram_configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


def telegram_call(method: str, params: dict | None = None, *, files=None, timeout=None):
    """Call a Bot API method; its `result`. `files`: {field: (filename,
    content_type, bytes)} sent as multipart/form-data with `params`. Raises
    TelegramError."""
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise TelegramError("TELEGRAM_BOT_TOKEN is not set", code=0, transient=False)
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{token}/{method}"
    params = params or {}
    if files:
        body, content_type = _multipart(params, files)
    else:
        body = json.dumps(params, ensure_ascii=False).encode()
        content_type = "application/json; charset=utf-8"
    request = urllib.request.Request(  # noqa: S310 - the URL is our own setting
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    wait = timeout if timeout is not None else settings.TELEGRAM_TIMEOUT
    try:
        with urllib.request.urlopen(request, timeout=wait) as response:  # noqa: S310
            answer = response.read()
    except urllib.error.HTTPError as exc:
        _raise_for(exc.code, exc.read(4096))
    except TimeoutError:
        raise TelegramError(
            f"Telegram did not answer within {wait:g} s", code=0, transient=True
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TelegramError(
            f"Telegram unreachable: {reason}", code=0, transient=True
        ) from None
    try:
        data = json.loads(answer)
    except ValueError:
        raise TelegramError(
            "Telegram answered something that is not JSON", code=200, transient=True
        ) from None
    if not data.get("ok"):
        _raise_for(int(data.get("error_code") or 400), answer)
    return data.get("result")


def _raise_for(code: int, raw: bytes):
    try:
        data = json.loads(raw)
    except ValueError:
        data = {}
    description = (data.get("description") if isinstance(data, dict) else "") or (
        raw.decode("utf-8", "replace").strip()[:150]
    )
    raise TelegramError(
        f"Telegram answered HTTP {code}: {description}"[:200],
        code=code,
        transient=code == 429 or code >= 500,
    ) from None


def _multipart(params: dict, files: dict) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in params.items():
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, content_type, content) in files.items():
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
