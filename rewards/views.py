"""The customer's points statement: every ledger entry, explained, newest first."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from members.models import Member
from members.views import member_required
from rewards.selectors import (
    ledger_entries_for_member,
    ledger_entry_explain,
    program_settings_get,
)

STATEMENT_PAGE_SIZE = 25


@require_GET
@member_required
def statement(request, member: Member):
    currency = program_settings_get().currency
    paginator = Paginator(
        ledger_entries_for_member(member_id=member.pk), STATEMENT_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    balance = member.account.balance
    context = {
        "member": member,
        "balance": balance,
        "owed": -balance if balance < 0 else 0,
        "page": page,
        "entries": [
            (entry, ledger_entry_explain(entry, currency=currency))
            for entry in page.object_list
        ],
    }
    return render(request, "rewards/statement.html", context)
