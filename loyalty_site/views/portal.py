"""Customer portal pages that show several apps at once: the landing page (what
the program gives: earn rate, rewards, tiers, how to join), the dashboard
(points, tier, stamp cards, membership, the survey prompt) and the card
(members' card number and QR with rewards' balance; the page the installable
app opens, kept offline by /sw.js). Mounted with members' pages in the "portal"
namespace (loyalty_site/urls.py). Thin: selectors read, templates in templates/portal/.
"""

from __future__ import annotations

import segno
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from loyalty_site.dashboard_cache import dashboard_panels_get
from members.cards import card_number_format
from members.models import Member
from members.push import push_optin_context
from members.selectors import member_get_for_user
from members.views import member_required
from rewards.earn_config import earn_config_get
from rewards.reasons import reasons_names_load
from rewards.selectors.catalog import reward_list_available, vouchers_usable_count
from rewards.selectors.ledger import (
    ledger_entries_explained_for_member,
    member_balance_get,
    points_discount,
    points_outlook_get,
    points_spendable_now,
)
from rewards.selectors.memberships import membership_active_get
from rewards.selectors.program import program_settings_get
from rewards.selectors.referrals import bonus_settings_get
from rewards.selectors.stamps import stamp_cards_open_for_member
from rewards.selectors.statement import ledger_entry_explain
from rewards.selectors.tiers import tier_progress_get, tier_requirement_text
from rewards.wallet.config import apple_wallet_enabled, google_wallet_enabled

DASHBOARD_ENTRIES = 5
LANDING_REWARDS = 6  # the cheapest first: what a new member reaches soonest


@require_GET
def home(request):
    """For visitors: what the program gives and how to join. Reads only."""
    if member_get_for_user(user=request.user) is not None:
        return redirect("portal:dashboard")
    program = program_settings_get()
    # Tiers from the process's earn configuration, current for the row just read.
    held = earn_config_get(program.config_version)
    context = {
        "program": program,
        # What a purchase gives back at the base rate, in percent of its amount.
        "back_percent": program.points_per_unit * program.point_value * 100,
        "bonus": bonus_settings_get(),
        "rewards": list(reward_list_available()[:LANDING_REWARDS]),
        "tiers": [
            {
                "tier": tier,
                "requirement": tier_requirement_text(tier, currency=program.currency),
            }
            for tier in held.tiers
        ],
    }
    return render(request, "portal/home.html", context)


@require_GET
@member_required
def dashboard(request, member: Member):
    program = program_settings_get()
    panels, activity = dashboard_panels_get(
        member=member,
        config_version=program.config_version,
        render=lambda: _dashboard_panels_render(member, program),
    )
    context = {"member": member, "panels": panels, "activity": activity}
    return render(request, "portal/dashboard.html", context)


def _dashboard_panels_render(member: Member, program):
    """The dashboard's panels as HTML (what loyalty_site.dashboard_cache keeps),
    and until when they hold without a write: the first pending points freeing
    up, the membership's period ending."""
    # Tiers and running stamp programs from the process's earn configuration:
    # the settings row just read says whether it is current (rewards.earn_config).
    held = earn_config_get(program.config_version)
    entries = list(
        ledger_entries_explained_for_member(member_id=member.pk)[:DASHBOARD_ENTRIES]
    )
    reasons_names_load(entries)
    balance = member.account.balance
    outlook = points_outlook_get(account=member.account)
    # What the till gives for the points spendable now; pending ones are said apart.
    spendable = points_spendable_now(balance=balance, pending=outlook.pending)
    membership = membership_active_get(member_id=member.pk)
    context = {
        "member": member,
        "program": program,
        "balance": balance,
        "owed": -balance if balance < 0 else 0,
        "worth": points_discount(spendable, program.point_value) if spendable else None,
        "currency": program.currency,
        "card_number": card_number_format(member.card_number),
        "entries": [
            (entry, ledger_entry_explain(entry, currency=program.currency))
            for entry in entries
        ],
        "tier": tier_progress_get(
            member=member,
            program=program,
            membership=membership,
        ),
        "outlook": outlook,
        # No active stamp program, no open card to show: no query.
        "stamp_cards": stamp_cards_open_for_member(member_id=member.pk)
        if held.stamp_programs
        else [],
        "membership": membership,
        # A new member (no activity yet) hears about vouchers too; the others
        # have the menu, and their dashboard keeps its queries.
        "vouchers_usable": None
        if entries
        else vouchers_usable_count(member_id=member.pk),
        # Running stamp programs: a member without a card yet hears how to start one.
        "stamp_programs_running": bool(held.stamp_programs),
        "membership_url": reverse("catalog:membership"),
    }
    ends = [
        at
        for at in (
            outlook.pending_until,
            membership.current_period_end if membership else None,
        )
        if at is not None
    ]
    panels = (
        render_to_string("portal/_dashboard_panels.html", context),
        render_to_string("portal/_dashboard_activity.html", context),
    )
    return panels, min(ends) if ends else None


@require_GET
@never_cache
@member_required
def card(request, member: Member):
    """The card to show at the till. The service worker keeps the last copy
    for offline use, so the page says when its balance was read."""
    qr = segno.make(member.card_number, micro=False, error="m")
    svg = qr.svg_inline(
        scale=8,
        border=2,
        omitsize=True,
        svgclass="card-qr",
        title=_("QR code of card %(card)s") % {"card": member.card_number},
    )
    context = {
        "member": member,
        "card_number": card_number_format(member.card_number),
        "qr_svg": svg,
        "balance": member_balance_get(member_id=member.pk),
        "balance_at": timezone.now(),
        # The wallet buttons only where the certificates are configured.
        "wallet_apple": apple_wallet_enabled(),
        "wallet_google": google_wallet_enabled(),
        "push": push_optin_context(member),
    }
    return render(request, "portal/card.html", context)
