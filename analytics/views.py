"""The customer's “Recommended for you” page (mounted by analytics/urls.py)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.selectors.recommend import (
    member_history,
    rank_items_for_history,
)
from analytics.selectors.recommend_reward import reward_suggestion_for
from members.models import Member
from members.views import member_required
from rewards.selectors.catalog import category_names

PAGE_ITEMS = 6


@require_GET
@member_required
def for_you(request, member: Member):
    """Items the member may like and a reward to aim for: a fixed number of
    queries (the history's three, the tables' four, the category names',
    the rewards' three)."""
    history = member_history(member_id=member.pk)
    context = {
        "member": member,
        "recommendations": rank_items_for_history(
            history, n=PAGE_ITEMS, category_names=category_names()
        ),
        "reward_suggestion": reward_suggestion_for(member, history=history),
    }
    return render(request, "analytics/recommended.html", context)
