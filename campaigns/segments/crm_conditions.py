"""Segment conditions on what members tell about themselves: the age band
(members.ages, the one definition the analytics use too) and the interests
they picked from the staff's list (members.Interest).

=================  ====================  ===========================================
field              op (value)            meaning
=================  ====================  ===========================================
age_band           is / is_not (codes)   age on the segment's day in one of the
                                         bands; "unknown": no birthday
interest           any / all / none      picked any / all / none of the
                   (codes)               interests (Interest.code)
=================  ====================  ===========================================
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.segments.conditions import Op, SegmentContext, register_condition
from members.ages import age_band_choices, band_q
from members.models import Interest, Member


def _age_band_q(cond: dict, ctx: SegmentContext) -> Q:
    on = timezone.localdate(ctx.now)
    q = Q(pk__in=[])
    for code in cond["value"]:
        q |= band_q(code, on)
    return q if cond["op"] == "is" else ~q


def _picked(codes) -> Exists:
    return Exists(
        Member.picked_interests.through.objects.filter(
            member_id=OuterRef("pk"), interest__code__in=list(codes)
        )
    )


def _interest_q(cond: dict, ctx: SegmentContext) -> Q:
    codes = cond["value"]
    if cond["op"] == "all":
        q = Q()
        for code in codes:
            q &= Q(_picked([code]))
        return q
    q = Q(_picked(codes))
    return q if cond["op"] == "any" else ~q


def _interest_choices() -> list[tuple[str, str]]:
    out = []
    for interest in Interest.objects.order_by("order", "code"):
        label = str(interest)
        if not interest.active:
            label = _("%(name)s (inactive)") % {"name": label}
        out.append((interest.code, label))
    return out


def conditions_register_crm() -> None:
    register_condition(
        "age_band",
        _("Age band"),
        _age_band_q,
        ops=(Op("is", _("is"), "choices"), Op("is_not", _("is not"), "choices")),
        choices=age_band_choices,
    )
    register_condition(
        "interest",
        _("Interests picked"),
        _interest_q,
        ops=(
            Op("any", _("any of"), "choices"),
            Op("all", _("all of"), "choices"),
            Op("none", _("none of"), "choices"),
        ),
        choices=_interest_choices,
    )
