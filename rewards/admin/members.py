"""The member admin with what rewards knows about a member: the points ledger
on the change page, the points adjustment page, and the CSV import of members
and purchases (rewards.admin.imports). It replaces members.admin's MemberAdmin
on the site, as an app extends another app's ModelAdmin.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext

from members.admin import MemberAdmin as MembersMemberAdmin
from members.audit import StaffActor
from members.errors import ServiceError
from members.formatting import number_format, signed_number_format
from members.models import Member
from rewards.admin.imports import import_allowed, import_urls
from rewards.forms import PointsAdjustForm, service_error_to_form
from rewards.models import AdjustmentStatus
from rewards.reasons import reasons_names_load
from rewards.selectors.controls import staff_controls_get
from rewards.selectors.ledger import ledger_entries_for_member
from rewards.selectors.program import program_settings_get
from rewards.selectors.statement import ledger_entry_explain
from rewards.services.adjustments import ADJUST_PERMISSION, adjustment_request

LEDGER_ROWS = 20


class MemberAdmin(MembersMemberAdmin):
    def member_context(self, request, member: Member) -> dict:
        context = super().member_context(request, member)
        if request.user.has_perm("rewards.view_ledgerentry"):
            currency = program_settings_get().currency
            entries = list(ledger_entries_for_member(member_id=member.pk)[:LEDGER_ROWS])
            reasons_names_load(entries)
            context["ledger_rows"] = [
                (entry, ledger_entry_explain(entry, currency=currency))
                for entry in entries
            ]
            context["ledger_limit"] = LEDGER_ROWS
            context["ledger_url"] = "{}?{}".format(
                reverse("admin:rewards_ledgerentry_changelist"),
                urlencode({"q": member.card_number}),
            )
        if request.user.has_perm(ADJUST_PERMISSION):
            context["adjust_points_url"] = reverse(
                "admin:members_member_adjust_points", args=[member.pk]
            )
        return context

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        if import_allowed(request.user):
            context["import_url"] = reverse("admin:members_member_import")
        return super().changelist_view(request, context)

    def get_urls(self):
        # Before the stock URLs: "<path:object_id>/" would swallow these.
        return [
            path(
                "<path:object_id>/adjust-points/",
                self.admin_site.admin_view(self.adjust_points_view),
                name="members_member_adjust_points",
            ),
            *import_urls(self),
            *super().get_urls(),
        ]

    def adjust_points_view(self, request, object_id):
        """A manual correction: a new ledger entry through points_adjust, with a reason."""
        if not request.user.has_perm(ADJUST_PERMISSION):
            raise PermissionDenied
        member = self.get_object(request, unquote(object_id))
        if member is None:
            raise Http404(gettext("No member with this id."))
        change_url = reverse("admin:members_member_change", args=[member.pk])
        if request.method == "POST":
            form = PointsAdjustForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    adjustment = adjustment_request(
                        member=member,
                        points=data["points"],
                        reason=data["reason"],
                        actor=StaffActor.from_request(request),
                        idempotency_key=f"admin-adjust:{data['idempotency_key']}",
                    )
                except ServiceError as exc:
                    service_error_to_form(form, exc)
                else:
                    if adjustment.status == AdjustmentStatus.PENDING:
                        self.message_user(
                            request,
                            gettext(
                                "An adjustment of %(points)s points would take what "
                                "you adjusted for this member in 24 hours above the "
                                "approval threshold of %(threshold)s points: it waits "
                                "for another Manager's approval."
                            )
                            % {
                                "points": signed_number_format(adjustment.points),
                                "threshold": number_format(
                                    staff_controls_get().adjustment_approval_threshold
                                ),
                            },
                            messages.WARNING,
                        )
                        return HttpResponseRedirect(change_url)
                    entry = adjustment.ledger_entry
                    self.log_change(
                        request,
                        member,
                        gettext("Adjusted points by %(points)s: %(reason)s")
                        % {
                            "points": signed_number_format(entry.points),
                            "reason": entry.reason_text(),
                        },
                    )
                    self.message_user(
                        request,
                        ngettext(
                            "Points adjusted by %(points)s. The balance is now %(balance)s point.",
                            "Points adjusted by %(points)s. The balance is now %(balance)s points.",
                            entry.balance_after,
                        )
                        % {
                            "points": signed_number_format(entry.points),
                            "balance": number_format(entry.balance_after),
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
        else:
            form = PointsAdjustForm()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Adjust points"),
            "subtitle": str(member),
            "opts": self.opts,
            "original": member,
            "member": member,
            "balance": member.account.balance,
            "threshold": staff_controls_get().adjustment_approval_threshold,
            "form": form,
            "change_url": change_url,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request, "admin/members/member/adjust_points.html", context
        )


admin.site.unregister(Member)
admin.site.register(Member, MemberAdmin)
