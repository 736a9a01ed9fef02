"""Payment providers for the paid membership: one interface (base.py), three
adapters (liqpay.py, stripe_checkout.py, test.py). The provider in use is
settings.PAYMENT_PROVIDER; rewards.services.payments is the only caller."""

from __future__ import annotations

from django.conf import settings

from rewards.payments.base import (  # noqa: F401
    CallbackEvent,
    CallbackInvalid,
    Checkout,
    EventKind,
    PaymentProvider,
    ProviderUnavailable,
    SignatureError,
)


def provider_get(name: str | None = None) -> PaymentProvider:
    """The adapter called `name` (default: the configured one). Raises
    LookupError for an unknown or switched-off provider: the test provider
    answers only while it is the configured one."""
    from rewards.payments.liqpay import LiqPayProvider
    from rewards.payments.stripe_checkout import StripeProvider
    from rewards.payments.test import TestProvider

    configured = settings.PAYMENT_PROVIDER
    name = name or configured
    adapters = {"liqpay": LiqPayProvider, "stripe": StripeProvider}
    if configured == "test":
        adapters["test"] = TestProvider
    if name not in adapters:
        raise LookupError(name)
    return adapters[name]()


def online_payment_enabled() -> bool:
    return settings.PAYMENT_PROVIDER in {"test", "liqpay", "stripe"}
