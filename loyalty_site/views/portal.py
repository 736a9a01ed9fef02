"""Customer portal pages that show several apps at once: the landing page (the
program's earn rate) and the dashboard (points, tier, stamp cards, membership,
the survey prompt). Mounted with members' pages in the "portal" namespace
(loyalty_site/urls.py). Thin: selectors read, templates in templates/portal/.
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from members.cards import card_number_format
from members.models import Member
from members.selectors import member_get_for_user
from members.views import member_required
from rewards.earn_config import earn_config_get
from rewards.reasons import reasons_names_load
from rewards.selectors.ledger import (
    ledger_entries_explained_for_member,
    points_discount,
    points_outlook_get,
    points_spendable_now,
)
from rewards.selectors.memberships import membership_active_get
from rewards.selectors.program import program_settings_get
from rewards.selectors.stamps import stamp_cards_open_for_member
from rewards.selectors.statement import ledger_entry_explain
from rewards.selectors.tiers import tier_progress_get

DASHBOARD_ENTRIES = 5


@require_GET
def home(request):
    if member_get_for_user(user=request.user) is not None:
        return redirect("portal:dashboard")
    return render(request, "portal/home.html", {"program": program_settings_get()})


@require_GET
@member_required
def dashboard(request, member: Member):
    program = program_settings_get()
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
    context = {
        "member": member,
        "balance": balance,
        "owed": -balance if balance < 0 else 0,
        "worth": points_discount(spendable, program.point_value) if spendable else None,
        "currency": program.currency,
        "card_number": card_number_format(member.card_number),
        "entries": [
            (entry, ledger_entry_explain(entry, currency=program.currency))
            for entry in entries
        ],
        "tier": tier_progress_get(member=member, program=program),
        "outlook": outlook,
        # No active stamp program, no open card to show: no query.
        "stamp_cards": stamp_cards_open_for_member(member_id=member.pk)
        if held.stamp_programs
        else [],
        "membership": membership_active_get(member_id=member.pk),
        "membership_url": reverse("catalog:membership"),
    }
    return render(request, "portal/dashboard.html", context)
