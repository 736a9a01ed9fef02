"""Customer pages for paying online (buy, automatic renewal, cancel, the
result page), the providers' callback endpoint, and the test provider's
checkout page (`make run`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from members.errors import ServiceError
from members.models import LeaveTrigger, Member
from members.services import leave_reason_path
from members.views import member_required
from rewards.forms import MembershipBuyForm
from rewards.models import Payment, PaymentStatus
from rewards.payments import provider_get
from rewards.reasons import system_reason
from rewards.reasons_stamps import SUBSCRIPTION_CANCELLED_ONLINE
from rewards.selectors.memberships import membership_active_get
from rewards.services.memberships import subscription_cancel
from rewards.services.payments import (
    payment_callback_receive,
    payment_checkout_start,
)
from rewards.services.renewals import subscription_auto_renew_set

MEMBERSHIP_PAGE = "catalog:membership"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@require_POST
@member_required
def membership_buy(request, member: Member):
    """Start the checkout of the chosen plan and send the customer to it."""
    form = MembershipBuyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(MEMBERSHIP_PAGE)
    try:
        payment, checkout = payment_checkout_start(
            member=member,
            plan=form.cleaned_data["plan"],
            auto_renew=form.cleaned_data["auto_renew"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(MEMBERSHIP_PAGE)
    if checkout.method == "POST":  # LiqPay: the browser posts the signed form
        return render(
            request,
            "rewards/payment_redirect.html",
            {"payment": payment, "checkout": checkout},
        )
    return redirect(checkout.url)


@require_POST
@member_required
def membership_auto_renew(request, member: Member):
    subscription = membership_active_get(member_id=member.pk)
    if subscription is None:
        messages.error(request, _("You have no membership to renew."))
        return redirect(MEMBERSHIP_PAGE)
    on = request.POST.get("auto_renew") == "1"
    try:
        subscription_auto_renew_set(subscription=subscription, on=on, by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Your membership will renew automatically.")
            if on
            else _("Automatic renewal is off: your membership ends with its period."),
        )
    return redirect(MEMBERSHIP_PAGE)


@require_POST
@member_required
def membership_cancel(request, member: Member):
    subscription = membership_active_get(member_id=member.pk)
    if subscription is None:
        messages.error(request, _("You have no membership to cancel."))
        return redirect(MEMBERSHIP_PAGE)
    try:
        subscription_cancel(
            subscription=subscription,
            by=request.user,
            reason=system_reason(SUBSCRIPTION_CANCELLED_ONLINE),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your membership is cancelled."))
        # The optional "why are you leaving?", after the cancel (never before it).
        return redirect(
            leave_reason_path(
                member=member,
                trigger=LeaveTrigger.MEMBERSHIP_CANCELLED,
                key=f"subscription:{subscription.pk}",
            )
        )
    return redirect(MEMBERSHIP_PAGE)


@require_http_methods(["GET"])
@member_required
def payment_result(request, member: Member, order_id: str):
    """Where the provider sends the customer back: the payment as we know it
    (the callback may arrive a moment later; the page says so)."""
    payment = get_object_or_404(
        Payment.objects.select_related("plan", "subscription"),
        order_id=order_id,
        member=member,
    )
    return render(
        request,
        "rewards/payment_result.html",
        {"payment": payment, "statuses": PaymentStatus, "member": member},
    )


@csrf_exempt
@require_POST
def payment_callback(request, provider: str):
    """The providers' server-to-server callback (LiqPay's server_url, Stripe's
    webhook, the test provider). Signed, so no CSRF token; the answer is
    plain text: 200 taken, 400 refused (bad signature, wrong amount)."""
    body = request.body
    form = request.POST.dict() if request.content_type.startswith(FORM_TYPES) else {}
    result = payment_callback_receive(
        provider=provider, body=body, headers=request.headers, form=form
    )
    return HttpResponse(
        result.message, status=result.status_code, content_type="text/plain"
    )


@require_http_methods(["GET", "POST"])
@member_required
def test_page(request, member: Member, order_id: str):
    """The test provider's checkout (only while PAYMENT_PROVIDER is "test"):
    "Pay" or "Fail" sends the signed callback a provider would send."""
    try:
        provider = provider_get("test")
    except LookupError:
        raise Http404 from None
    payment = get_object_or_404(
        Payment.objects.select_related("plan"),
        order_id=order_id,
        member=member,
        provider="test",
    )
    if payment.status != PaymentStatus.PENDING:  # paid or failed already
        return redirect("payments:result", order_id=payment.order_id)
    if request.method == "POST":
        status = "success" if request.POST.get("outcome") == "pay" else "failure"
        delivery = provider.callback_make(payment=payment, status=status)
        payment_callback_receive(
            provider="test", body=delivery.body, headers=delivery.headers
        )
        return redirect("payments:result", order_id=payment.order_id)
    return render(request, "rewards/payment_test_page.html", {"payment": payment})
