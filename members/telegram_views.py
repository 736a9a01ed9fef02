"""The Telegram block of the preferences page: link this membership to a
Telegram chat with a one-time code the bot receives as `/start <code>`
(members.services.telegram), or unlink it. The raw code lives in the session
only until it is used or expires; the database keeps its hash."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members.errors import ServiceError
from members.messages import channel_available
from members.models import Channel, ConsentSource, Member
from members.services import telegram_link_code_issue, telegram_unlink
from members.telegram_portal import SESSION_KEY
from members.views import member_required


@require_POST
@member_required
def telegram_link_start(request, member: Member):
    if not channel_available(Channel.TELEGRAM):
        messages.error(request, _("Telegram is not available here."))
        return redirect("portal:preferences")
    try:
        otp, code = telegram_link_code_issue(member=member)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        request.session[SESSION_KEY] = {"otp_id": otp.pk, "code": code}
    return redirect(f"{_preferences()}#telegram")


@require_POST
@member_required
def telegram_unlink_view(request, member: Member):
    request.session.pop(SESSION_KEY, None)
    if telegram_unlink(
        member=member, source=ConsentSource.PORTAL, changed_by=request.user
    ):
        messages.success(request, _("Telegram is unlinked."))
    return redirect(f"{_preferences()}#telegram")


def _preferences() -> str:
    return reverse("portal:preferences")
