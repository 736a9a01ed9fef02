"""Demo data of the leaving question (churn reasons, asked), called by
`seed_demo` after the feedback demo: most members who stopped buying answered
"Why are you leaving?" from the win-back message, some when they unsubscribed
or cancelled the membership, spread over the months after their last purchase,
so the Churn reasons page shows asked reasons beside the inferred ones. A few
chose "Other" and wrote a line (customers' own words, in their language); one
complaint is about prices.

Deterministic relative to the demo's own today (`command.end`, the end of
its history): the draws come from a random stream of their own (seeded from
`--seed`, not the history's stream, whose state depends on what ran before),
and two answers in three are dated in the last SHOWN_DAYS days before the
demo's end, inside the dashboards' default period (the demo's month and the two
before it), the others in the months after the member's last purchase. The
first answer is "Other" with the customer's own words.

Everything goes through the services (members.services.leave_reason_record).
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db.models import Max

from campaigns.feedback.services import complaint_file
from members.models import LeaveAnswer, LeaveTrigger, Member
from members.services import leave_reason_record

ANSWER_SHARE = 0.6  # of the members who churned
# Weights: price and "too many messages" lead, as in a real programme.
REASONS = {
    "price": 8,
    "quality": 3,
    "service": 3,
    "moved": 4,
    "competitor": 5,
    "not_interested": 3,
    "too_many_messages": 6,
    "other": 2,
}
TRIGGERS = {
    LeaveTrigger.WIN_BACK: 6,
    LeaveTrigger.UNSUBSCRIBED: 3,
    LeaveTrigger.MEMBERSHIP_CANCELLED: 1,
}
OTHER_TEXTS = [
    "Закрили магазин біля дому.",
    "Неудобные часы работы.",
    "Nu mai găsesc produsele mele.",
    "I shop online now.",
]
# The default period of the dashboards is the current month and the two before
# it: at least 59 days back from any day. Recent answers stay inside it.
SHOWN_DAYS = 55
FIRST_AFTER = dt.timedelta(days=3)  # the earliest answer after the last purchase


def seed(*, command) -> None:
    rng = random.Random(getattr(command, "seed", 42) + 23)
    end = command.end
    churn_days = settings.ANALYTICS_CHURN_DAYS
    lapsed = list(
        Member.objects.filter(user__isnull=True)
        .annotate(last=Max("purchases__occurred_at"))
        .filter(last__lt=end - dt.timedelta(days=churn_days // 2))
        .order_by("pk")
        .values_list("pk", "last")
    )
    reasons, weights = list(REASONS), list(REASONS.values())
    triggers, trigger_weights = list(TRIGGERS), list(TRIGGERS.values())
    members = Member.objects.in_bulk([pk for pk, _last in lapsed])
    answered = 0
    for pk, last in lapsed:
        if rng.random() > ANSWER_SHARE:
            continue
        reason = rng.choices(reasons, weights=weights)[0]
        if not answered:
            reason = "other"
        trigger = rng.choices(triggers, weights=trigger_weights)[0]
        earliest = last + FIRST_AFTER
        latest = min(end, last + dt.timedelta(days=churn_days + 60))
        if answered % 3 != 2:  # recent: inside the default period
            earliest = max(earliest, end - dt.timedelta(days=SHOWN_DAYS))
            latest = end
        when = earliest + (latest - earliest) * rng.uniform(0.0, 1.0)
        leave_reason_record(
            member=members[pk],
            trigger=trigger,
            reason=reason,
            text=rng.choice(OTHER_TEXTS) if reason == "other" else "",
            key=f"demo:{pk}",
            answered_at=when.replace(microsecond=0),
        )
        answered += 1
    if lapsed:
        pk, last = lapsed[0]
        complaint_file(
            member=members[pk],
            topic="price",
            body="Ціни зросли, а бонусів менше.",
            at=last + dt.timedelta(days=3),
        )
    command.stdout.write(
        f"Churn reasons, asked: {LeaveAnswer.objects.count()} answers "
        f"from {len(lapsed)} lapsed members."
    )
