"""What analytics adds to campaigns, plugged in from AnalyticsConfig.ready
through campaigns' extension points (docs/decisions.md): the RFM segment as a
segment condition (campaigns.segments.conditions) and the `recommended` and
`reward_suggestion` template variables (campaigns.messaging.variables)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models import MemberCLV, MemberRFM, RFMSegment
from analytics.selectors import recommend, recommend_reward
from campaigns.messaging.templating import LazyValue
from campaigns.messaging.variables import template_variables_register
from campaigns.segments.conditions import ConditionInvalid, Op, register_condition

RECOMMENDATION_VARIABLES = {
    "recommended": _(
        "Up to three products the member may like, by name, separated by commas"
    ),
    "reward_suggestion": _(
        "The reward that best suits what the member buys and can (nearly) afford"
    ),
}


def rfm_segment_q(condition: dict, ctx) -> Q:
    """Members whose RFM segment is (not) one of the condition's."""
    matching = MemberRFM.objects.filter(
        member=OuterRef("pk"), segment__in=condition["value"]
    )
    found = Q(Exists(matching))
    return ~found if condition["op"] == "is_not" else found


def p_alive_q(condition: dict, ctx) -> Q:
    """Members whose P(alive) (MemberCLV, refitted nightly) is below the
    value; a member with no MemberCLV row (never bought) does not match."""
    below = MemberCLV.objects.filter(
        member=OuterRef("pk"), p_alive__lt=Decimal(str(condition["value"]))
    )
    return Q(Exists(below))


def p_alive_validate(condition: dict) -> dict:
    """P(alive) is a probability: the threshold lies between 0 and 1."""
    if not 0 < condition["value"] <= 1:
        raise ConditionInvalid(_("enter a probability between 0 and 1, e.g. 0.3."))
    return condition


class Suggestions:
    """`recommended` and `reward_suggestion` for the members of one chunk.

    Lazy: nothing is read until a text uses one of them. Then the purchase
    histories of all the chunk's members are read at once (three queries, the
    window analytics.selectors.recommend.member_history uses), and each member costs
    four queries for `recommended` (analytics.selectors.recommend.rank_items_for_history,
    none for a member without purchases) and three for `reward_suggestion`
    (reward_suggestion_for)."""

    def __init__(self, member_ids: list[int], now: dt.datetime | None = None):
        self.member_ids = list(member_ids)
        self.now = now
        self._histories: dict | None = None

    def history(self, member_id: int):
        if self._histories is None:
            now = self.now or timezone.now()
            self._histories = recommend.member_histories(
                member_ids=self.member_ids,
                since=now - dt.timedelta(days=recommend.HISTORY_DAYS),
            )
        return self._histories.get(member_id) or recommend.MemberHistory()

    def recommended(self, member) -> str:
        items = recommend.rank_items_for_history(self.history(member.pk), n=3)
        return ", ".join(item.name or item.sku for item in items)

    def reward_suggestion(self, member) -> str:
        found = recommend_reward.reward_suggestion_for(
            member, history=self.history(member.pk)
        )
        return found.reward.name if found else ""

    def context(self, member) -> dict:
        return {
            "recommended": LazyValue(lambda: self.recommended(member)),
            "reward_suggestion": LazyValue(lambda: self.reward_suggestion(member)),
        }


def campaign_hooks_register() -> None:
    """Plug analytics into campaigns (AnalyticsConfig.ready; safe to repeat)."""
    register_condition(
        "rfm",
        _("RFM segment"),
        rfm_segment_q,
        ops=[Op("is", _("is"), "choices"), Op("is_not", _("is not"), "choices")],
        choices=lambda: RFMSegment.choices,
        replace=True,
    )
    register_condition(
        "p_alive",
        _("P(alive), the fitted chance the member still buys"),
        p_alive_q,
        p_alive_validate,
        ops=[Op("lt", _("below"), "decimal")],
        replace=True,
    )
    template_variables_register(
        "recommendations",
        variables=RECOMMENDATION_VARIABLES,
        for_chunk=Suggestions,
        replace=True,
    )
