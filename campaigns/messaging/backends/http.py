"""One JSON POST to a provider, with the failure rules every HTTP backend
shares (the SMS gateway, the Viber provider): a timeout, a refused connection,
an HTTP 5xx or 429 is transient (delivery tries again later); any other HTTP
error is permanent (the message fails at once). What a 2xx answer means is the
caller's business: some providers answer 200 to a refusal and say why in the
body."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from campaigns.messaging.backends import DeliveryError

ANSWER_LIMIT = 65536  # bytes of an answer read (a provider's JSON is small)


def http_json_post(*, url: str, payload: dict, token: str, timeout: float, name: str):
    """POST `payload` as JSON to `url` with `Authorization: Bearer token`,
    waiting at most `timeout` seconds; the decoded JSON answer of a 2xx ({} when
    the body is empty or not JSON). Raises DeliveryError naming `name` ("SMS
    gateway", "Viber provider") and the provider's status and answer."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is our own setting
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {token}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read(ANSWER_LIMIT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        answer = exc.read(4096).decode("utf-8", "replace").strip()
        raise DeliveryError(
            f"{name} answered HTTP {exc.code}: {answer[:150]}",
            transient=exc.code >= 500 or exc.code == 429,
        ) from None
    except TimeoutError:
        raise _timeout(name, timeout) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise _timeout(name, timeout) from None
        raise DeliveryError(f"{name} unreachable: {reason}", transient=True) from None
    try:
        return json.loads(answer) if answer.strip() else {}
    except ValueError:
        return {}


def _timeout(name: str, timeout: float) -> DeliveryError:
    return DeliveryError(f"{name} did not answer within {timeout:g} s", transient=True)
