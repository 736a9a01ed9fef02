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
