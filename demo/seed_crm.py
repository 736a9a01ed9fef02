"""Demo CRM data (issue 16, age bands and interests): the members' interests
from the staff's list, a segment by age band and interest, and the age-band
figures printed. Called from seed_demo after the history, before the
recommendation tables are filled.

The interests list itself comes from the migration members 0023 (uk, ru, ro,
en); the planned members' free-text interests (demo.data.INTERESTS, which also
steer what they buy) are matched to it through the same service the staff's
import would use; what matches nothing stays free text.
"""

from __future__ import annotations

from analytics.selectors.demographics import demographic_kpis
from analytics.selectors.periods import Period, local_month, month_add
from campaigns.segments.selectors import segment_count
from campaigns.segments.services import segment_save
from members.models import Interest, Member
from members.services import interests_match_text, member_update_profile


def _interests_pick() -> int:
    pool = list(Interest.objects.all())
    moved = 0
    for member in Member.objects.exclude(interests=[]).order_by("pk"):
        if not isinstance(member.interests, list):
            continue
        picked, rest = interests_match_text(member.interests, interests=pool)
        if picked:
            member_update_profile(
                member=member, picked_interests=picked, interests=rest
            )
            moved += 1
    return moved


def seed(*, command) -> None:
    moved = _interests_pick()
    by = command.staff.get("marketer")
    segment = segment_save(
        name="Coffee lovers aged 25–44",
        description="Picked coffee or coffee beans as an interest; 25 to 44 years old.",
        definition={
            "op": "and",
            "conditions": [
                {"field": "age_band", "op": "is", "value": ["25-34", "35-44"]},
                {"field": "interest", "op": "any", "value": ["coffee", "beans"]},
            ],
        },
        by=by,
    )
    last = local_month()
    rows = demographic_kpis(Period(month_add(last, -2), last), None, "age_band")
    command.stdout.write(
        f"CRM: {moved} members picked interests from the list; segment "
        f"{segment.name} ({segment_count(segment)}). Age bands, last 3 months "
        "(members / active): "
        + ", ".join(f"{r['label']} {r['members']}/{r['active']}" for r in rows)
    )
