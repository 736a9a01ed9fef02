"""Staff correct where a member came from (members.services.member_source_set):
a small form under the member's change page, one audit row per correction."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.audit import StaffActor
from members.errors import ServiceError
from members.models import Member, MemberSource, Store
from members.models.members import UTM_MAX_LENGTH
from members.selectors import member_get_by_card
from members.services import UTM_FIELDS, member_source_set

CHANGE_PERMISSION = "members.change_member"


class MemberSourceForm(forms.Form):
    """Where the member came from, as staff learnt it."""

    source = forms.ChoiceField(label=_("Source"), choices=MemberSource.choices)
    store = forms.ModelChoiceField(
        label=_("Enrolled at store"),
        queryset=Store.objects.order_by("name"),
        required=False,
        help_text=_("The store whose new members they count among."),
    )
    referred_by = forms.CharField(
        label=_("Referred by (card number)"),
        max_length=40,
        required=False,
        help_text=_("The friend's card number, for a referral."),
    )
    utm_source = forms.CharField(
        label=_("UTM source"), max_length=UTM_MAX_LENGTH, required=False
    )
    utm_medium = forms.CharField(
        label=_("UTM medium"), max_length=UTM_MAX_LENGTH, required=False
    )
    utm_campaign = forms.CharField(
        label=_("UTM campaign"), max_length=UTM_MAX_LENGTH, required=False
    )

    def __init__(self, *args, member: Member, **kwargs):
        self.member = member
        kwargs.setdefault(
            "initial",
            {
                "source": member.source,
                "store": member.enrolled_store_id,
                "referred_by": (
                    member.referred_by.card_number if member.referred_by_id else ""
                ),
                **{name: getattr(member, name) for name in UTM_FIELDS},
            },
        )
        super().__init__(*args, **kwargs)

    def clean_referred_by(self) -> Member | None:
        card = self.cleaned_data["referred_by"].strip()
        if not card:
            return None
        friend = member_get_by_card(card_number=card, related=False)
        if friend is None:
            raise forms.ValidationError(
                _("No member has card number %(card)s."), params={"card": card}
            )
        return friend

    def clean(self):
        data = super().clean()
        if data.get("source") == MemberSource.REFERRAL and not data.get("referred_by"):
            self.add_error(
                "referred_by", _("A referral needs the friend's card number.")
            )
        return data

    def save(self, *, actor: StaffActor) -> Member:
        data = self.cleaned_data
        return member_source_set(
            member=self.member,
            source=data["source"],
            referred_by=data.get("referred_by"),
            store=data.get("store"),
            utm={name: data.get(name) or "" for name in UTM_FIELDS},
            actor=actor,
        )


def member_source_view(request, member: Member | None, *, admin):
    """GET the form, POST it through member_source_set (change_member only)."""
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied
    if member is None:
        raise Http404(gettext("No member with this id."))
    change_url = reverse("admin:members_member_change", args=[member.pk])
    form = MemberSourceForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            form.save(actor=StaffActor.from_request(request))
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            admin.message_user(
                request,
                gettext("Where the member came from is saved."),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
    context = {
        **admin.admin_site.each_context(request),
        "title": gettext("Where the member came from"),
        "subtitle": str(member),
        "opts": admin.opts,
        "original": member,
        "form": form,
        "change_url": change_url,
    }
    return TemplateResponse(request, "admin/members/member/source.html", context)
