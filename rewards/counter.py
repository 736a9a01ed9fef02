"""The Counter: one admin page where a cashier finds or enrolls a member and
records a purchase, a return or a redemption.

Every write goes through a service; a refused call (members.errors.ServiceError)
is shown on the form that asked for it. Each successful write redirects back to
the member's panel (Post/Redirect/Get) with a message stating the new balance.
The forms carry receipt ids drawn when the page was shown, so a double
submission replays instead of earning or spending twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from members.admin_base import COUNTER_PERMISSION
from members.audit import StaffActor, member_viewed_record
from members.cards import card_number_format
from members.errors import ServiceError
from members.formatting import date_format, money_format, number_format
from members.models import AuditAction, ConsentSource, Member, Store
from members.selectors import member_search
from members.services import MemberAlreadyEnrolled, member_enroll
from rewards.forms import (
    CounterEnrollForm,
    CounterMembershipForm,
    CounterPurchaseForm,
    CounterRedeemForm,
    CounterReturnForm,
    CounterSearchForm,
    CounterVoucherForm,
    service_error_to_form,
)
from rewards.models import Purchase
from rewards.selectors.ledger import (
    member_balance_get,
    points_available_get,
    points_discount,
    purchases_for_member,
)
from rewards.selectors.memberships import membership_active_get
from rewards.selectors.program import program_settings_get
from rewards.selectors.promocodes import promo_use_for_purchase
from rewards.selectors.stamps import (
    StampProgress,
    stamp_cards_open_for_member,
    stamp_progress_for_purchase,
)
from rewards.services.counter_controls import (
    DailyLimitReached,
    counter_hook,
    limit_refusal_record,
)
from rewards.services.memberships import subscription_sell
from rewards.services.purchases import purchase_record
from rewards.services.redemptions import points_redeem
from rewards.services.returns import purchase_return_record
from rewards.services.vouchers import voucher_consume

RECENT_PURCHASES = 10
RETURNABLE_PURCHASES = 20

ENROLL_PERMISSION = "members.add_member"
RETURN_PERMISSION = "rewards.add_purchasereturn"
REDEEM_PERMISSION = "rewards.add_redemption"
MEMBERSHIP_PERMISSION = "rewards.add_subscription"


def counter_urls(site) -> list:
    """The Counter's URLs, to be added to `site`'s; each view is wrapped in admin_view."""
    return Counter(site).urls()


def balance_text(balance: int) -> str:
    """'120 points', or '30 points owed' when a return took back spent points."""
    if balance < 0:
        return ngettext("%(points)s point owed", "%(points)s points owed", -balance) % {
            "points": number_format(-balance)
        }
    return ngettext("%(points)s point", "%(points)s points", balance) % {
        "points": number_format(balance)
    }


def stamp_progress_text(progress: StampProgress) -> str:
    """'Coffee card: +2 stamps, 7 of 10.' and a sentence per voucher it issued."""
    text = ngettext(
        "%(program)s: +%(earned)s stamp, %(stamps)s of %(needed)s.",
        "%(program)s: +%(earned)s stamps, %(stamps)s of %(needed)s.",
        progress.earned,
    ) % {
        "program": progress.program.name,
        "earned": progress.earned,
        "stamps": progress.stamps,
        "needed": progress.needed,
    }
    for voucher in progress.vouchers:
        text += " " + gettext(
            "Card full: voucher %(code)s for “%(reward)s” is the customer's now."
        ) % {"code": voucher.code, "reward": voucher.reward.name}
    return text


def _rate(value: Decimal, currency: str) -> str:
    """A per-point value: 0.10 UAH, 0.125 UAH (the currency's decimals at least,
    no trailing zeros beyond), in the active language's money format."""
    return money_format(value.normalize(), currency, exact=True)


def _staff_store(user) -> Store | None:
    """The store a staff member works at, if it is open; otherwise forms ask."""
    store = user.store if user.store_id else None
    return store if store is not None and store.is_active else None


def _returnable_purchases(member: Member) -> QuerySet[Purchase]:
    ids = list(
        purchases_for_member(member_id=member.pk)
        .filter(returned_total__lt=F("total"))
        .values_list("pk", flat=True)[:RETURNABLE_PURCHASES]
    )
    # Not the sliced queryset itself: a form field must be able to filter it.
    return (
        Purchase.objects.filter(pk__in=ids)
        .select_related("store")
        .order_by("-occurred_at", "-id")
    )


class Counter:
    def __init__(self, site) -> None:
        self.site = site

    def urls(self) -> list:
        def get(view):
            return self.site.admin_view(require_GET(view))

        def post(view):
            return self.site.admin_view(require_POST(view))

        member = "counter/member/<int:member_id>/"
        return [
            path("counter/", get(self.search), name="counter"),
            path("counter/enroll/", post(self.enroll), name="counter_enroll"),
            path(member, get(self.member), name="counter_member"),
            path(f"{member}purchase/", post(self.purchase), name="counter_purchase"),
            path(f"{member}return/", post(self.purchase_return), name="counter_return"),
            path(f"{member}redeem/", post(self.redeem), name="counter_redeem"),
            path(
                f"{member}membership/",
                post(self.membership),
                name="counter_membership",
            ),
            path("counter/voucher/", post(self.voucher), name="counter_voucher"),
        ]

    # --- helpers ---

    @staticmethod
    def _require(request, *perms: str) -> None:
        if not request.user.has_perms((COUNTER_PERMISSION, *perms)):
            raise PermissionDenied

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:{name}", args=args, current_app=self.site.name)

    def _member_url(self, member: Member) -> str:
        return self._url("counter_member", member.pk)

    def _context(self, request, **extra) -> dict:
        return {
            **self.site.each_context(request),
            "title": gettext("Counter"),
            "counter_search_url": self._url("counter"),
            **extra,
        }

    @staticmethod
    def _member_get(member_id: int) -> Member:
        return get_object_or_404(
            Member.objects.select_related("account", "home_store"), pk=member_id
        )

    def _balance_message(
        self, request, text: str, member: Member, level=messages.SUCCESS
    ):
        balance = member_balance_get(member_id=member.pk)
        messages.add_message(
            request,
            level,
            gettext("%(what)s Balance: %(balance)s.")
            % {"what": text, "balance": balance_text(balance)},
        )
        return HttpResponseRedirect(self._member_url(member))

    # --- finding and enrolling ---

    @staticmethod
    def _enroll_initial(query: str) -> dict:
        if any(ch.isdigit() for ch in query):
            return {"phone": query}
        first, _sep, last = query.partition(" ")
        return {"first_name": first, "last_name": last}

    def _search_page(
        self,
        request,
        *,
        form,
        results=None,
        enroll_form=None,
        existing=None,
        voucher_form=None,
    ):
        user = request.user
        if enroll_form is None and results == [] and user.has_perm(ENROLL_PERMISSION):
            enroll_form = CounterEnrollForm(
                initial=self._enroll_initial(form.cleaned_data["q"])
            )
        context = self._context(
            request,
            search_form=form,
            results=results,
            enroll_form=enroll_form,
            existing_member=existing,
            enroll_url=self._url("counter_enroll"),
            voucher_form=voucher_form
            or CounterVoucherForm(store=_staff_store(request.user)),
            voucher_url=self._url("counter_voucher"),
        )
        return TemplateResponse(request, "admin/counter/search.html", context)

    def search(self, request):
        self._require(request)
        form = CounterSearchForm(request.GET if "q" in request.GET else None)
        results = None
        if form.is_valid():
            results = member_search(query=form.cleaned_data["q"])
            if len(results) == 1:
                return HttpResponseRedirect(self._member_url(results[0]))
            results = [(m, self._member_url(m)) for m in results]
        return self._search_page(request, form=form, results=results)

    def enroll(self, request):
        self._require(request, ENROLL_PERMISSION)
        form = CounterEnrollForm(request.POST)
        existing = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                member = member_enroll(
                    phone=data["phone"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"] or None,
                    store=_staff_store(request.user),
                    enrolled_by=request.user,
                    sms_consent=data["sms_consent"],
                    email_consent=data["email_consent"],
                    source=ConsentSource.COUNTER,
                )
            except MemberAlreadyEnrolled as exc:
                service_error_to_form(form, exc)
                existing = (exc.member, self._member_url(exc.member))
            except ServiceError as exc:
                service_error_to_form(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Enrolled %(name)s with card %(card)s.")
                    % {
                        "name": member.full_name or member.phone,
                        "card": card_number_format(member.card_number),
                    },
                )
                return HttpResponseRedirect(self._member_url(member))
        search_form = CounterSearchForm({"q": request.POST.get("phone", "")})
        search_form.is_valid()
        return self._search_page(
            request, form=search_form, results=[], enroll_form=form, existing=existing
        )

    # --- the member panel ---

    def member(self, request, member_id: int):
        self._require(request)
        member = self._member_get(member_id)
        member_viewed_record(
            actor=StaffActor.from_request(request), member=member, where="counter"
        )
        return self._member_page(request, member)

    def _member_page(self, request, member: Member, **bound):
        user = request.user
        store = _staff_store(user)
        conf = program_settings_get()
        balance = member_balance_get(member_id=member.pk)
        forms = {
            "purchase_form": bound.get("purchase_form")
            or CounterPurchaseForm(store=store)
        }
        if user.has_perm(RETURN_PERMISSION):
            returnable = _returnable_purchases(member)
            forms["return_form"] = bound.get("return_form") or (
                CounterReturnForm(purchases=returnable, store=store)
                if returnable.exists()
                else None
            )
        if user.has_perm(REDEEM_PERMISSION):
            forms["redeem_form"] = bound.get("redeem_form") or CounterRedeemForm(
                store=store
            )
        if user.has_perm(MEMBERSHIP_PERMISSION):
            form = bound.get("membership_form") or CounterMembershipForm(store=store)
            forms["membership_form"] = (
                form if form.fields["plan"].queryset.exists() else None
            )
        # What the till may take now: pending points are not spendable yet.
        spendable, pending = points_available_get(account=member.account)
        context = self._context(
            request,
            title=gettext("Counter: %(member)s")
            % {"member": member.full_name or member.phone},
            member=member,
            card=card_number_format(member.card_number),
            balance=balance,
            balance_text=balance_text(balance),
            balance_owed=balance < 0,
            currency=conf.currency,
            point_value=_rate(conf.point_value, conf.currency),
            max_discount=money_format(
                points_discount(spendable, conf.point_value), conf.currency
            ),
            points_spendable=spendable,
            points_pending=pending,
            purchases=purchases_for_member(member_id=member.pk)[:RECENT_PURCHASES],
            stamp_cards=stamp_cards_open_for_member(member_id=member.pk),
            store=store,
            purchase_url=self._url("counter_purchase", member.pk),
            return_url=self._url("counter_return", member.pk),
            redeem_url=self._url("counter_redeem", member.pk),
            membership=membership_active_get(member_id=member.pk),
            membership_url=self._url("counter_membership", member.pk),
            member_admin_url=(
                reverse("admin:members_member_change", args=[member.pk])
                if user.has_perm("members.view_member")
                else None
            ),
            **forms,
        )
        return TemplateResponse(request, "admin/counter/member.html", context)

    # --- the three writes ---

    def _member_write(self, request, member: Member, form, form_key: str, write, say):
        """Validate `form`, call `write(cleaned_data)` (a service answering
        (row, replayed)) and redirect with the new balance and `say(row, replayed,
        currency)`; on a form or service error, draw the member page again."""
        if form.is_valid():
            try:
                row, replayed = write(form.cleaned_data)
            except ServiceError as exc:
                if isinstance(exc, DailyLimitReached):
                    limit_refusal_record(
                        actor=StaffActor.from_request(request),
                        error=exc,
                        member_id=member.pk,
                    )
                service_error_to_form(form, exc)
            else:
                text = say(row, replayed, program_settings_get().currency)
                level = messages.WARNING if replayed else messages.SUCCESS
                return self._balance_message(request, text, member, level)
        return self._member_page(request, member, **{form_key: form})

    def purchase(self, request, member_id: int):
        self._require(request)
        member = self._member_get(member_id)

        def say(purchase, replayed, currency):
            if replayed:
                return gettext(
                    "Receipt %(receipt)s was already recorded; nothing was added."
                ) % {"receipt": purchase.receipt_id}
            text = ngettext(
                "Purchase of %(amount)s recorded: +%(points)s point.",
                "Purchase of %(amount)s recorded: +%(points)s points.",
                purchase.points_earned,
            ) % {
                "amount": money_format(purchase.total, currency),
                "points": number_format(purchase.points_earned),
            }
            stamps = stamp_progress_for_purchase(purchase=purchase)
            promo = promo_use_for_purchase(purchase=purchase)
            if promo is not None:
                text += " " + ngettext(
                    "Promo code %(code)s: +%(points)s point.",
                    "Promo code %(code)s: +%(points)s points.",
                    promo.points,
                ) % {"code": promo.key.code, "points": number_format(promo.points)}
            return " ".join([text, *(stamp_progress_text(p) for p in stamps)])

        form = CounterPurchaseForm(request.POST, store=_staff_store(request.user))
        return self._member_write(
            request,
            member,
            form,
            "purchase_form",
            lambda data: purchase_record(
                store=form.store,
                member=member,
                receipt_id=data["receipt_id"],
                total=data["total"],
                source=Purchase.Source.COUNTER,
                created_by=request.user,
                on_written=counter_hook(
                    actor=StaffActor.from_request(request),
                    action=AuditAction.PURCHASE_RECORDED,
                ),
                promo_code=data.get("promo_code") or None,
            ),
            say,
        )

    def purchase_return(self, request, member_id: int):
        self._require(request, RETURN_PERMISSION)
        member = self._member_get(member_id)

        def say(ret, replayed, currency):
            if replayed:
                return gettext(
                    "Return %(receipt)s was already recorded; nothing was changed."
                ) % {"receipt": ret.receipt_id}
            return ngettext(
                "Return of %(amount)s recorded: −%(points)s point.",
                "Return of %(amount)s recorded: −%(points)s points.",
                ret.points_reversed,
            ) % {
                "amount": money_format(ret.amount, currency),
                "points": number_format(ret.points_reversed),
            }

        form = CounterReturnForm(
            request.POST,
            purchases=_returnable_purchases(member),
            store=_staff_store(request.user),
        )
        return self._member_write(
            request,
            member,
            form,
            "return_form",
            lambda data: purchase_return_record(
                purchase=data["purchase"],
                store=form.store,
                receipt_id=data["receipt_id"],
                amount=data["amount"],
                created_by=request.user,
                on_written=counter_hook(
                    actor=StaffActor.from_request(request),
                    action=AuditAction.RETURN_RECORDED,
                ),
            ),
            say,
        )

    def redeem(self, request, member_id: int):
        self._require(request, REDEEM_PERMISSION)
        member = self._member_get(member_id)

        def say(redemption, replayed, currency):
            values = {
                "points": redemption.points,
                "discount": money_format(redemption.discount, currency),
                "receipt": redemption.receipt_id,
            }
            if replayed:
                return (
                    gettext(
                        "Receipt %(receipt)s already has this redemption; nothing was "
                        "spent again. The discount is %(discount)s."
                    )
                    % values
                )
            return (
                ngettext(
                    "Redeemed %(points)s point: give a discount of %(discount)s.",
                    "Redeemed %(points)s points: give a discount of %(discount)s.",
                    redemption.points,
                )
                % values
            )

        form = CounterRedeemForm(request.POST, store=_staff_store(request.user))
        return self._member_write(
            request,
            member,
            form,
            "redeem_form",
            lambda data: points_redeem(
                member=member,
                store=form.store,
                points=data["points"],
                receipt_id=data["receipt_id"],
                created_by=request.user,
                on_written=counter_hook(
                    actor=StaffActor.from_request(request),
                    action=AuditAction.POINTS_REDEEMED,
                ),
            ),
            say,
        )

    def membership(self, request, member_id: int):
        """Sell or renew a paid membership the customer paid for at this till."""
        self._require(request, MEMBERSHIP_PERMISSION)
        member = self._member_get(member_id)

        def say(sub, replayed, currency):
            values = {
                "plan": sub.plan.name,
                "date": date_format(timezone.localtime(sub.current_period_end)),
            }
            if replayed:
                return (
                    gettext("This sale was already recorded: %(plan)s until %(date)s.")
                    % values
                )
            return gettext("%(plan)s sold: valid until %(date)s.") % values

        form = CounterMembershipForm(request.POST, store=_staff_store(request.user))
        return self._member_write(
            request,
            member,
            form,
            "membership_form",
            lambda data: subscription_sell(
                member=member,
                plan=data["plan"],
                store=form.store,
                receipt_id=data["receipt_id"],
                sold_by=request.user,
            ),
            say,
        )

    # --- vouchers ---

    def voucher(self, request):
        """Use a customer's voucher on a receipt; then show the owner's panel."""
        self._require(request)
        form = CounterVoucherForm(request.POST, store=_staff_store(request.user))
        if form.is_valid():
            data = form.cleaned_data
            try:
                voucher, replayed = voucher_consume(
                    code=data["code"],
                    store=form.store,
                    receipt_id=data["receipt_id"],
                    created_by=request.user,
                    on_written=counter_hook(
                        actor=StaffActor.from_request(request),
                        action=AuditAction.VOUCHER_CONSUMED,
                    ),
                )
            except ServiceError as exc:
                service_error_to_form(form, exc)
            else:
                values = {"code": voucher.code, "reward": voucher.reward.name}
                if replayed:
                    text = (
                        gettext(
                            "Voucher %(code)s was already used on this receipt; "
                            "give “%(reward)s” once only."
                        )
                        % values
                    )
                    return self._balance_message(
                        request, text, voucher.member, messages.WARNING
                    )
                text = gettext("Voucher %(code)s used: give “%(reward)s”.") % values
                return self._balance_message(request, text, voucher.member)
        search_form = CounterSearchForm()
        return self._search_page(request, form=search_form, voucher_form=form)
