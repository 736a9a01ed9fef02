"""A reward to aim for: the reward a member can take now (or nearly) that best
matches what they buy, for the `reward_suggestion` template variable, the
"For you" page and member 360. Reads the history that
analytics.selectors.recommend gathers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q

from analytics.models import RewardCategory
from analytics.selectors.recommend import MemberHistory, member_history
from rewards.models import PointsAccount
from rewards.selectors.catalog import reward_list_available

NEARLY_SHARE = Decimal("0.2")  # a reward at most 20 % dearer than the balance


@dataclass(frozen=True)
class RewardSuggestion:
    reward: object  # rewards.models.Reward
    reachable: bool
    points_short: int
    category: str  # the member's category it matched, "" for a general reward


def reward_suggestion_for(
    member, *, history: MemberHistory | None = None
) -> RewardSuggestion | None:
    """The reward the member can take now (or nearly: at most NEARLY_SHARE dearer
    than their balance) that best matches what they buy.

    Rewards match by `RewardCategory` rows (staff map e.g. “Free coffee” to
    coffee); unmapped rewards (discounts, gifts) suit everyone but come after
    a matching one. Among equals: one they can take now before one they nearly
    can, then the dearest they can afford. Three queries (plus the history's).
    """
    if history is None:
        history = member_history(member_id=member.pk)
    account = (
        PointsAccount.objects.filter(member_id=member.pk)
        .values("balance", "tier_id")
        .first()
    )
    if account is None:
        return None
    balance = account["balance"]
    tier_q = Q(tiers__isnull=True)
    if account["tier_id"]:
        tier_q |= Q(tiers=account["tier_id"])
    rewards = (
        reward_list_available()
        .filter(tier_q)
        .filter(points_cost__lte=max(balance, 0) * (1 + NEARLY_SHARE))
        .distinct()
        .prefetch_related(
            Prefetch(
                "categories",
                queryset=RewardCategory.objects.only("reward_id", "category"),
            )
        )
    )
    best = None
    for reward in rewards:
        categories = [rc.category for rc in reward.categories.all()]
        matched = max(categories, key=lambda c: (history.affinity(c), c), default="")
        affinity = history.affinity(matched) if matched else 0.0
        if categories and affinity == 0:
            continue  # a coffee reward for someone who never buys coffee
        reachable = reward.points_cost <= balance
        key = (
            affinity > 0,
            reachable,
            affinity,
            reward.points_cost if reachable else -reward.points_cost,
        )
        if best is None or key > best[0]:
            best = (
                key,
                RewardSuggestion(
                    reward=reward,
                    reachable=reachable,
                    points_short=max(reward.points_cost - balance, 0),
                    category=matched if affinity > 0 else "",
                ),
            )
    return best[1] if best else None
