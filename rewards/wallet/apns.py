"""The APNs push that tells an Apple device a pass changed: an empty JSON body
to /3/device/<push token> over HTTP/2, with the Pass Type ID certificate as the
TLS client certificate and the pass type as the topic (Apple's "Updating a
Pass"). The device then asks the web service what changed.

APNs speaks HTTP/2 only: httpx with h2. A plain "http://" base URL (the tests'
local fake) is spoken to in HTTP/2 with prior knowledge, as APNs is over TLS.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx
from django.conf import settings

# Answers that mean the device will never take this token again: forget it.
GONE_REASONS = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"}


@dataclass(frozen=True)
class PushResult:
    status: int | None  # None: no answer (refused, timed out, TLS)
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def gone(self) -> bool:
        """The registration is dead (410, or a 400 naming a dead token)."""
        return self.status == 410 or (
            self.status == 400 and self.reason in GONE_REASONS
        )


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_cert_chain(
        settings.WALLET_APPLE_CERT,
        settings.WALLET_APPLE_KEY,
        password=settings.WALLET_APPLE_KEY_PASSWORD or None,
    )
    return context


class ApnsClient:
    """One HTTP/2 connection for a batch of pushes (APNs asks senders to keep
    connections open rather than open one per push)."""

    def __init__(self) -> None:
        base = settings.WALLET_APPLE_APNS_URL.rstrip("/")
        self._client = httpx.Client(
            base_url=base,
            http1=False,
            http2=True,
            verify=_tls_context() if base.startswith("https:") else True,
            timeout=settings.WALLET_TIMEOUT,
        )

    def __enter__(self) -> ApnsClient:
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    def push(self, push_token: str) -> PushResult:
        try:
            response = self._client.post(
                f"/3/device/{push_token}",
                content=b"{}",
                headers={"apns-topic": settings.WALLET_APPLE_PASS_TYPE_ID},
            )
        except httpx.HTTPError as exc:
            return PushResult(None, str(exc)[:300] or type(exc).__name__)
        reason = ""
        if response.status_code != 200:
            try:
                reason = str(response.json().get("reason", ""))
            except ValueError:
                reason = response.text[:300]
        return PushResult(response.status_code, reason)
