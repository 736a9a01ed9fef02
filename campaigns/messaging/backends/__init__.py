"""Where messages leave the portal: email through Django's email backends, SMS
through a pluggable backend named by LOYALTY_SMS_BACKEND (like EMAIL_BACKEND)."""

from __future__ import annotations


class DeliveryError(Exception):
    """A backend could not hand a message over. `transient` errors (a gateway that
    is down, answers 5xx or times out) are tried again later; others fail the
    message at once."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


# --- one backend per channel ---------------------------------------------------------
# A channel's backend takes the Message (status sending; its `to` is the member's
# address on the channel) and hands it over, returning the provider's id for it
# ("" when none), or raising DeliveryError. Email is handed over by delivery
# itself (one SMTP connection per batch); every other channel registers here,
# from CampaignsConfig.ready() (SMS) or its own module's `register()`.
_BACKENDS: dict = {}


def channel_backend_register(channel: str, send) -> None:
    """Make `send(message) -> provider id` the backend of `channel`."""
    _BACKENDS[channel] = send


def channel_backend(channel: str):
    """The backend of `channel`; DeliveryError (permanent) when none is registered."""
    try:
        return _BACKENDS[channel]
    except KeyError:
        raise DeliveryError(
            f"no backend for the {channel} channel", transient=False
        ) from None
