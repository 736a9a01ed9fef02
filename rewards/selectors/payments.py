"""Online payments: the card a membership can be renewed with, and a
member's own payments."""

from __future__ import annotations

from django.conf import settings

from rewards.models import Payment, PaymentStatus, Subscription


def payment_saved_card_get(
    *, subscription: Subscription, provider: str
) -> Payment | None:
    """The latest paid online payment of this membership with `provider` that
    asked to keep the card (auto_renew at checkout) and got what a renewal
    needs: LiqPay's card token, Stripe's PaymentIntent (its customer and card)."""
    found = Payment.objects.filter(
        subscription=subscription,
        provider=provider,
        status=PaymentStatus.PAID,
        auto_renew=True,
    ).order_by("-paid_at", "-pk")
    if provider == "liqpay":
        found = found.exclude(provider_token="")
    elif provider == "stripe":
        found = found.exclude(provider_payment_id="")
    return found.first()


def subscription_can_auto_renew(*, subscription: Subscription) -> bool:
    """Whether the nightly job could charge this membership's next period:
    the test provider always can; LiqPay and Stripe with a saved card."""
    provider = settings.PAYMENT_PROVIDER
    if provider == "test":
        return True
    if provider not in ("liqpay", "stripe"):
        return False
    return (
        payment_saved_card_get(subscription=subscription, provider=provider) is not None
    )
