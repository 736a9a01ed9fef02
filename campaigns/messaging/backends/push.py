"""Web push backends: the development outbox and the browser vendors' push
services through pywebpush (VAPID, RFC 8292; payload encryption aes128gcm,
RFC 8291).

A message goes to every browser the member subscribed in
(members.models.PushSubscription). What each browser shows is the JSON
payload `{"title", "body", "url", "tag"}` that static/js/sw.js turns into a
notification; a click opens `url`, the message's tracked click link
(campaigns.messaging.tracking), so clicks are counted. Opens are not: a push
has no pixel, and nothing reports that a notification was shown.

`push_hand_over` is the push channel's backend (registered from
CampaignsConfig.ready()); it calls whichever class LOYALTY_PUSH_BACKEND names.
"""

from __future__ import annotations

import json
import threading
from email.utils import parseaddr
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from campaigns.messaging.backends import DeliveryError
from campaigns.messaging.tracking import push_click_url
from members.branding import branding_get
from members.models import Channel, PushSubscription
from members.services import push_subscription_gone, push_subscription_result_record

# How long a push service keeps a message for a device that is offline.
PUSH_TTL_SECONDS = 24 * 3600
# A push payload is at most 4 KB once encrypted: the text is cut well below.
BODY_MAX_CHARS = 1000
TITLE_MAX_CHARS = 120


def push_payload(message) -> dict:
    """What the service worker shows: the subject as the title (the
    program's name when there is none), the text, the tracked link, and a
    tag (one notification per purpose: a second one replaces the first)."""
    body = message.body
    if len(body) > BODY_MAX_CHARS:
        body = body[: BODY_MAX_CHARS - 1].rstrip() + "…"
    return {
        "title": (message.subject or branding_get().name)[:TITLE_MAX_CHARS],
        "body": body,
        "url": push_click_url(message.token),
        "tag": message.key,
    }


def vapid_subject() -> str:
    """The contact the push services may write to: VAPID_SUBJECT, else a
    mailto: of DEFAULT_FROM_EMAIL's address."""
    return settings.VAPID_SUBJECT or (
        "mailto:" + (parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "loyalty@localhost")
    )


class OutboxPushBackend:
    """Keeps each push as an OutboxEntry (channel web push), shown with the
    emails and SMS on the Outbox page: `make run` without VAPID keys."""

    def send(self, message) -> str:
        from campaigns.models import OutboxEntry

        payload = push_payload(message)
        entry = OutboxEntry.objects.create(
            channel=Channel.PUSH,
            to=message.to or "",
            subject=payload["title"],
            body=payload["body"],
            headers={"url": payload["url"], "tag": payload["tag"]},
            reference=message.token[:100],
        )
        return f"outbox-{entry.pk}"


_local = threading.local()


def _session():
    """One requests session per worker thread: most subscriptions share a
    push service's host (fcm.googleapis.com for Chrome), so later pushes skip
    the TLS handshake (measured against a local server: 15 ms a push with a
    new connection each, 6 ms over a kept one)."""
    import requests

    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


@cache
def _vapid(private_key: str):
    from py_vapid import Vapid

    return Vapid.from_string(private_key=private_key)


class WebPushBackend:
    """Encrypts the payload for each of the member's subscriptions and POSTs
    it to its push service, signed with VAPID_PRIVATE_KEY (claims: the
    endpoint's origin, VAPID_SUBJECT, 12 hours), waiting at most PUSH_TIMEOUT
    seconds per browser.

    One browser that takes it is enough: the message is sent. 404 and 410
    mean the browser dropped the subscription: it is deleted. When no browser
    took it, a 429, a 5xx, a timeout or a refused connection from any of them
    makes the failure transient (delivery tries again later, all of them:
    none got it); otherwise it is permanent (no subscription left, or the push
    service refused our request: a bad VAPID key answers 401 or 403)."""

    def send(self, message) -> str:
        import requests
        from pywebpush import WebPushException, webpush

        if not (settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY):
            raise DeliveryError("VAPID keys are not set", transient=False)
        subscriptions = list(
            PushSubscription.objects.filter(member_id=message.member_id).order_by("pk")
        )
        if not subscriptions:
            raise DeliveryError("no web push subscription", transient=False)
        data = json.dumps(push_payload(message), ensure_ascii=False)
        vapid = _vapid(settings.VAPID_PRIVATE_KEY)
        delivered: list[str] = []
        transient: list[str] = []
        permanent: list[str] = []
        gone = 0
        for subscription in subscriptions:
            try:
                response = webpush(
                    subscription_info={
                        "endpoint": subscription.endpoint,
                        "keys": {
                            "p256dh": subscription.p256dh,
                            "auth": subscription.auth,
                        },
                    },
                    data=data,
                    vapid_private_key=vapid,
                    # A fresh dict each time: pywebpush writes the endpoint's
                    # origin into it as the audience.
                    vapid_claims={"sub": vapid_subject()},
                    timeout=settings.PUSH_TIMEOUT,
                    ttl=PUSH_TTL_SECONDS,
                    requests_session=_session(),
                )
            except WebPushException as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status in (404, 410):
                    push_subscription_gone(subscription_id=subscription.pk)
                    gone += 1
                    continue
                answer = (exc.response.text if exc.response is not None else "")[:100]
                reason = f"push service answered HTTP {status}: {answer}".strip()
                push_subscription_result_record(
                    subscription_id=subscription.pk, error=reason
                )
                (transient if status == 429 or status >= 500 else permanent).append(
                    reason
                )
            except requests.Timeout:
                reason = (
                    f"push service did not answer within {settings.PUSH_TIMEOUT:g} s"
                )
                push_subscription_result_record(
                    subscription_id=subscription.pk, error=reason
                )
                transient.append(reason)
            except (requests.RequestException, OSError) as exc:
                reason = f"push service unreachable: {exc.__class__.__name__}"
                push_subscription_result_record(
                    subscription_id=subscription.pk, error=reason
                )
                transient.append(reason)
            else:
                push_subscription_result_record(subscription_id=subscription.pk)
                delivered.append(response.headers.get("Location", "") or "")
        if delivered:
            return delivered[0][:100]
        if transient:
            raise DeliveryError(transient[0], transient=True)
        if permanent:
            raise DeliveryError(permanent[0], transient=False)
        raise DeliveryError(
            f"the browser dropped the subscription (404/410): {gone} removed, "
            "none left",
            transient=False,
        )


def push_hand_over(message) -> str:
    """The web push channel's backend: LOYALTY_PUSH_BACKEND's `send`."""
    return import_string(settings.LOYALTY_PUSH_BACKEND)().send(message) or ""
