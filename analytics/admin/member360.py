"""The Member 360 staff page: the member, their points, RFM segment,
recommendations and the merged timeline (analytics.selectors.member360)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from analytics.models import MemberRFM
from analytics.selectors.clv_fits import member_clv_get
from analytics.selectors.member360 import (
    admin_url,
    member_purchase_facts,
    member_timeline,
    program_currency,
)
from analytics.selectors.recommend import (
    member_history,
    rank_items_for_history,
)
from analytics.selectors.recommend_reward import reward_suggestion_for
from members.audit import StaffActor, member_viewed_record
from members.models import Member
from members.replica import replica_reads

VIEW_PERMISSIONS = ("members.view_member", "rewards.view_purchase")


def _page_number(request) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


def member360_view(request, member_id: int, *, site: admin.AdminSite):
    """Cashiers and Managers (members.view_member + rewards.view_purchase)."""
    if not request.user.has_perms(VIEW_PERMISSIONS):
        raise PermissionDenied
    member = get_object_or_404(
        Member.objects.select_related(
            "account__tier", "home_store", "enrolled_store", "referred_by"
        ),
        pk=member_id,
    )
    member_viewed_record(
        actor=StaffActor.from_request(request), member=member, where="member360"
    )
    rfm = MemberRFM.objects.filter(member_id=member.pk).first()
    history = member_history(member_id=member.pk)
    timeline = member_timeline(member, page=_page_number(request))
    context = {
        **site.each_context(request),
        "title": _("Member 360: %(name)s")
        % {"name": member.full_name or member.card_number},
        "member": member,
        "account": getattr(member, "account", None),
        "rfm": rfm,
        "clv": member_clv_get(member_id=member.pk),
        # Live, like the timeline below it; the RFM row is a nightly snapshot.
        "facts": member_purchase_facts(member_id=member.pk),
        "currency": program_currency(),
        "timeline": timeline,
        "recommendations": rank_items_for_history(history, n=3),
        "reward_suggestion": reward_suggestion_for(member, history=history),
        "member_change_url": admin_url("members_member_change", member.pk),
        "source_change_url": (
            admin_url("members_member_source", member.pk)
            if request.user.has_perm("members.change_member")
            else ""
        ),
        "referred_by_url": (
            admin_url("member360", member.referred_by_id)
            if member.referred_by_id
            else ""
        ),
        "opts": Member._meta,
    }
    return TemplateResponse(request, "admin/members/member360.html", context)


def member360_urls(site: admin.AdminSite) -> list:
    """The page's URL, to be added to the admin site's before the ModelAdmins'
    (whose `members/member/<path>/` would catch it)."""

    @replica_reads()  # the replica, when there is one (members.replica)
    def view(request, member_id: int):
        return member360_view(request, member_id, site=site)

    return [
        path(
            "members/member/<int:member_id>/360/",
            site.admin_view(require_GET(view)),
            name="member360",
        )
    ]
