"""What a member's stated interests add to “Recommended for you” when their
history is thin.

A member picks interests from the staff's list (members.Interest); each
interest names the purchase categories it stands for (“coffee” → coffee,
beans). With fewer than THIN_BASKETS baskets in the history, the recommender
(analytics.selectors.recommend.rank_items) adds for every item j of those
categories

    W_INTEREST · (1 − B / THIN_BASKETS) · p_j / P(cat j)

(B the member's baskets, p_j / P(cat j) the item's share of its category, as
for the category affinity): the full weight for a member who never bought, a
third of it at two baskets, nothing from THIN_BASKETS on, where what they buy
says more than what they said. Inactive interests do not count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from members.models import Member

THIN_BASKETS = 3
W_INTEREST = 1.0


def member_interest_categories(
    member_ids: Iterable[int] | None = None,
) -> dict[int, frozenset[str]]:
    """Per member (all, or those of `member_ids`), the purchase categories of
    their active picked interests; members without any are left out. One query."""
    links = Member.picked_interests.through.objects.filter(interest__active=True)
    if member_ids is not None:
        links = links.filter(member_id__in=list(member_ids))
    out: dict[int, set[str]] = defaultdict(set)
    for member_id, categories in links.values_list(
        "member_id", "interest__purchase_categories"
    ):
        out[member_id].update(c.strip() for c in categories.split(",") if c.strip())
    return {member_id: frozenset(cats) for member_id, cats in out.items() if cats}


def interest_weight(baskets: int, interests: frozenset[str]) -> float:
    """How much the stated interests weigh for a history of `baskets` baskets."""
    if not interests or baskets >= THIN_BASKETS:
        return 0.0
    return W_INTEREST * (1 - baskets / THIN_BASKETS)
