"""The one interface every payment provider adapter implements."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rewards.models import Payment


class SignatureError(Exception):
    """The callback's signature does not check out: refused, nothing recorded."""


class CallbackInvalid(Exception):
    """A signed callback we cannot read (no order, no amount)."""


class ProviderUnavailable(Exception):
    """The provider's API refused or could not be reached."""


class EventKind(enum.StrEnum):
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIAL_REFUND = "partial_refund"
    OTHER = "other"


@dataclass(frozen=True)
class Checkout:
    """Where to send the customer: a GET redirect, or (LiqPay) a form POSTed
    to the provider's page."""

    url: str
    method: str = "GET"
    fields: dict[str, str] = field(default_factory=dict)
    session_id: str = ""


@dataclass(frozen=True)
class CallbackEvent:
    """A verified callback, in our terms. `event_key` is unique per delivery of
    one event (a redelivery has the same key); `amount` is in major units."""

    event_key: str
    event_type: str
    kind: EventKind
    order_id: str
    amount: Decimal | None
    currency: str
    provider_payment_id: str = ""
    provider_session_id: str = ""
    provider_token: str = ""


@dataclass(frozen=True)
class CallbackDelivery:
    """A callback a provider hands over at once (the test provider's refund)."""

    body: bytes
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str
    can_refund: bool

    def checkout_start(
        self, *, payment: Payment, description: str, return_url: str, callback_url: str
    ) -> Checkout: ...

    def callback_parse(
        self, *, body: bytes, headers: Mapping[str, str], form: Mapping[str, str]
    ) -> CallbackEvent:
        """Verify the signature (SignatureError) and read the event."""

    def charge_saved(
        self, *, payment: Payment, previous: Payment, callback_url: str
    ) -> CallbackDelivery | None:
        """Charge `payment` (an automatic renewal) to what `previous` saved,
        without the customer; the result arrives as a callback (the test
        provider hands it back). ProviderUnavailable when it cannot."""

    def refund(self, *, payment: Payment) -> CallbackDelivery | None:
        """Ask for a full refund; the result arrives as a callback (or, for the
        test provider, is handed back to deliver now)."""
