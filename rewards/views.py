"""Customer pages for points: the statement (every ledger entry, explained, newest
first), the rewards catalog, and the member's vouchers with their QR codes."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from members.errors import ServiceError
from members.formatting import number_format
from members.models import Member
from members.views import member_required
from rewards.earn_config import earn_config_get
from rewards.forms import PromoCodeEnterForm, RewardRedeemForm
from rewards.models import Voucher
from rewards.payments import online_payment_enabled
from rewards.reasons import reasons_names_load
from rewards.selectors.catalog import (
    reward_list_available,
    voucher_code_normalize,
    voucher_refusal,
    vouchers_for_member,
)
from rewards.selectors.ledger import (
    ledger_entries_explained_for_member,
    member_balance_get,
)
from rewards.selectors.memberships import (
    membership_active_get,
    membership_plans_on_sale,
)
from rewards.selectors.partners import partners_for_customers
from rewards.selectors.payments import subscription_can_auto_renew
from rewards.selectors.program import program_settings_get
from rewards.selectors.stamps import (
    stamp_cards_completed_for_member,
    stamp_cards_open_for_member,
)
from rewards.selectors.statement import (
    breakdown_names_load,
    earn_breakdown_explain,
    ledger_entry_explain,
)
from rewards.selectors.tiers import tier_progress_get, tier_requirement_text
from rewards.services.promocode_online import promo_code_redeem_online
from rewards.services.vouchers import reward_redeem

STATEMENT_PAGE_SIZE = 25
VOUCHERS_SHOWN = 100


@require_GET
@member_required
def statement(request, member: Member):
    currency = program_settings_get().currency
    paginator = Paginator(
        ledger_entries_explained_for_member(member_id=member.pk, with_breakdown=True),
        STATEMENT_PAGE_SIZE,
    )
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    reasons_names_load(rows)
    breakdown_names_load(rows)
    balance = member.account.balance
    context = {
        "member": member,
        "balance": balance,
        "owed": -balance if balance < 0 else 0,
        "page": page,
        "entries": [
            (
                entry,
                ledger_entry_explain(entry, currency=currency),
                earn_breakdown_explain(entry, currency=currency),
            )
            for entry in rows
        ],
    }
    return render(request, "rewards/statement.html", context)


# --- rewards catalog and vouchers -------------------------------------------------------


def _voucher_qr(voucher: Voucher) -> str:
    qr = segno.make(voucher.code, micro=False, error="m")
    return qr.svg_inline(
        scale=8,
        border=2,
        omitsize=True,
        svgclass="voucher-qr",
        title=_("QR code of voucher %(code)s") % {"code": voucher.code},
    )


@require_GET
@member_required
def catalog(request, member: Member):
    balance = member_balance_get(member_id=member.pk)
    tier_id = member.account.tier_id
    rewards = []
    for reward in reward_list_available().prefetch_related("tiers"):
        only_for = list(reward.tiers.all())
        rewards.append(
            {
                "reward": reward,
                "affordable": reward.points_cost <= balance,
                "missing": max(reward.points_cost - balance, 0),
                "balance_after": balance - reward.points_cost,
                "form": RewardRedeemForm(reward=reward),
                "only_for": ", ".join(t.name for t in only_for),
                "tier_ok": not only_for or tier_id in {t.pk for t in only_for},
            }
        )
    context = {
        "member": member,
        "balance": balance,
        "rewards": rewards,
        "promo_form": PromoCodeEnterForm(),
    }
    return render(request, "rewards/catalog.html", context)


@require_POST
@member_required
def promo_code_enter(request, member: Member):
    """A member enters a promo code for a bonus (rewards.services.promocodes)."""
    form = PromoCodeEnterForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the code."))
        return redirect("catalog:catalog")
    try:
        use, _replayed = promo_code_redeem_online(
            member=member,
            code=form.cleaned_data["code"],
            idempotency_key=f"portal-{member.pk}-{form.cleaned_data['idempotency_key']}",
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:catalog")
    if use.voucher_id:
        messages.success(
            request,
            _("Code %(code)s: your voucher is ready.") % {"code": use.key.code},
        )
        return redirect(use.voucher)
    messages.success(
        request,
        ngettext(
            "Code %(code)s: %(points)s point added.",
            "Code %(code)s: %(points)s points added.",
            use.points,
        )
        % {"code": use.key.code, "points": number_format(use.points)},
    )
    return redirect("catalog:catalog")


@require_POST
@member_required
def redeem(request, member: Member):
    form = RewardRedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was out of date; please try again."))
        return redirect("catalog:catalog")
    reward = form.cleaned_data["reward"]
    try:
        voucher, replayed = reward_redeem(
            member=member,
            reward=reward,
            idempotency_key=f"portal-{member.pk}-{form.cleaned_data['idempotency_key']}",
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:catalog")
    if not replayed:
        messages.success(
            request,
            _("You redeemed “%(reward)s”. Show this voucher at the till.")
            % {"reward": reward.name},
        )
    return redirect(voucher)


@require_GET
@member_required
def vouchers(request, member: Member):
    now = timezone.now()
    rows = []
    for voucher in vouchers_for_member(member_id=member.pk)[:VOUCHERS_SHOWN]:
        reason = voucher_refusal(voucher, now=now)
        rows.append((voucher, reason))
    context = {"member": member, "vouchers": rows}
    return render(request, "rewards/vouchers.html", context)


@require_GET
@member_required
def voucher(request, member: Member, code: str):
    normal = voucher_code_normalize(code)
    found = get_object_or_404(
        vouchers_for_member(member_id=member.pk), code=normal or ""
    )
    reason = voucher_refusal(found)
    context = {
        "member": member,
        "voucher": found,
        "reason": reason,
        "qr_svg": None if reason else _voucher_qr(found),
    }
    return render(request, "rewards/voucher.html", context)


@require_GET
@member_required
def partners(request, member: Member):
    """Where points are earned and spent besides our own stores."""
    context = {
        "member": member,
        "program": program_settings_get(),
        "partners": partners_for_customers(),
    }
    return render(request, "rewards/partners.html", context)


@require_GET
@member_required
def tiers(request, member: Member):
    program = program_settings_get()
    currency = program.currency
    rows = [
        {
            "tier": tier,
            "requirement": tier_requirement_text(tier, currency=currency),
        }
        # The process's copy, current for the settings row just read.
        for tier in earn_config_get(program.config_version).tiers
    ]
    context = {
        "member": member,
        "rows": rows,
        # A tier a paid membership guarantees is kept by it, not by spending.
        "tier": tier_progress_get(
            member=member,
            program=program,
            membership=membership_active_get(member_id=member.pk),
        ),
    }
    return render(request, "rewards/tiers.html", context)


@require_GET
@member_required
def stamps(request, member: Member):
    context = {
        "member": member,
        "stamp_cards": stamp_cards_open_for_member(member_id=member.pk),
        "completed_cards": stamp_cards_completed_for_member(member_id=member.pk),
    }
    return render(request, "rewards/stamps.html", context)


@require_GET
@member_required
def membership(request, member: Member):
    """The member's paid membership (automatic renewal, cancel), and the plans
    to buy at a counter or, with a payment provider configured, online."""
    current = membership_active_get(member_id=member.pk)
    context = {
        "member": member,
        "membership": current,
        "plans": membership_plans_on_sale(),
        "currency": program_settings_get().currency,
        "online_payment": online_payment_enabled(),
        "can_auto_renew": current is not None
        and subscription_can_auto_renew(subscription=current),
    }
    return render(request, "rewards/membership.html", context)
