"""Customer pages of events and members-only content: the event list with
sign-up and cancel, and the members-only pages and offers of the member's tier."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from campaigns.events.selectors import (
    PAGES_SHOWN,
    content_page_get_for_member,
    content_pages_for_member,
    events_for_member,
)
from campaigns.events.services import event_rsvp, event_rsvp_cancel
from campaigns.models import RsvpStatus
from members.errors import ServiceError
from members.models import Member
from members.views import member_required


@require_GET
@member_required
def event_list(request, member: Member):
    rows = events_for_member(member=member)
    return render(request, "campaigns/events/list.html", {"rows": rows})


@require_POST
@member_required
def event_rsvp_view(request, member: Member, event_id: int):
    waitlist = request.POST.get("waitlist") == "1"
    try:
        rsvp = event_rsvp(member=member, event_id=event_id, waitlist=waitlist)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if rsvp.status == RsvpStatus.GOING:
            messages.success(
                request,
                _("You're going to “%(title)s”.") % {"title": rsvp.event.title},
            )
        else:
            messages.info(
                request,
                _(
                    "You are on the waitlist for “%(title)s”: we will write when "
                    "a place opens up."
                )
                % {"title": rsvp.event.title},
            )
    return redirect("campaigns:events")


@require_POST
@member_required
def event_rsvp_cancel_view(request, member: Member, event_id: int):
    # Only the member's own sign-up is ever looked up: there is no sign-up id
    # in the address for anyone to swap.
    try:
        rsvp = event_rsvp_cancel(member=member, event_id=event_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Your sign-up for “%(title)s” is cancelled.")
            % {"title": rsvp.event.title},
        )
    return redirect("campaigns:events")


@require_GET
@member_required
def members_only_list(request, member: Member):
    pages = list(content_pages_for_member(member=member)[:PAGES_SHOWN])
    return render(request, "campaigns/events/members_only.html", {"pages": pages})


@require_GET
@member_required
def members_only_page(request, member: Member, slug: str):
    page = content_page_get_for_member(member=member, slug=slug)
    if page is None:
        # Not published, or above the member's tier: the same 404 either way,
        # so the address does not tell what exists for higher tiers.
        raise Http404(_("There is no such page."))
    return render(request, "campaigns/events/members_only_page.html", {"page": page})
