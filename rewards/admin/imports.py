"""The admin's CSV import page (Managers): members or purchases, run at once
for files of a few thousand rows, with the summary and the row errors."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.admin_base import CsvImportForm
from members.csvexport import csv_response
from members.formatting import number_format
from members.imports import (
    members_csv_read,
    members_import,
    members_template,
)
from members.models import Store
from rewards.imports import purchases_csv_read, purchases_import, purchases_template

# Enrolling a member and recording a purchase are Cashier rights; changing
# members is the Manager's, so the three together mean Manager (or superuser)
# without a permission of its own (and a migration) for this page.
IMPORT_PERMISSIONS = (
    "members.add_member",
    "members.change_member",
    "rewards.add_purchase",
)
MAX_ROWS = 5000  # above this the request would run for minutes: use the command
MAX_BYTES = 5 * 1024 * 1024

KIND_MEMBERS = "members"
KIND_PURCHASES = "purchases"
TEMPLATES = {KIND_MEMBERS: members_template, KIND_PURCHASES: purchases_template}
COMMANDS = {
    KIND_MEMBERS: "manage.py import_members FILE --store CODE",
    KIND_PURCHASES: "manage.py import_purchases FILE",
}


def import_allowed(user) -> bool:
    return user.is_active and user.is_staff and user.has_perms(IMPORT_PERMISSIONS)


class ImportForm(CsvImportForm):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[(KIND_MEMBERS, _("Members")), (KIND_PURCHASES, _("Purchases"))],
        widget=forms.RadioSelect,
        initial=KIND_MEMBERS,
    )
    store = forms.ModelChoiceField(
        label=_("Home store"),
        queryset=Store.objects.order_by("code"),
        required=False,
        help_text=_("Members only: the home store of rows without a store code."),
    )
    field_order = ["kind", "store", "file", "dry_run"]
    max_bytes = MAX_BYTES
    max_rows = MAX_ROWS

    def commands_text(self) -> str:
        return gettext("%(members)s or %(purchases)s") % {
            "members": COMMANDS[KIND_MEMBERS],
            "purchases": COMMANDS[KIND_PURCHASES],
        }

    def rows(self):
        """The file's rows, or a form error (unreadable, too many rows)."""
        kind = self.cleaned_data["kind"]
        read = members_csv_read if kind == KIND_MEMBERS else purchases_csv_read
        rows = self.rows_read(read, command=COMMANDS[kind])
        if rows is None:
            return None
        if (
            kind == KIND_MEMBERS
            and self.cleaned_data["store"] is None
            and any(not row.get("store") for row in rows)
        ):
            self.add_error(
                "store",
                gettext("Choose the home store of the rows without a store code."),
            )
            return None
        return rows


def import_urls(model_admin) -> list:
    site = model_admin.admin_site
    return [
        path(
            "import/",
            site.admin_view(lambda request: import_view(model_admin, request)),
            name="members_member_import",
        ),
        path(
            "import/template-<str:kind>.csv",
            site.admin_view(lambda request, kind: import_template_view(request, kind)),
            name="members_member_import_template",
        ),
    ]


def import_template_view(request, kind: str) -> HttpResponse:
    if not import_allowed(request.user):
        raise PermissionDenied
    if kind not in TEMPLATES:
        raise Http404(gettext("No such template."))
    return csv_response(f"{kind}-template.csv", TEMPLATES[kind]())


def import_view(model_admin, request):
    if not import_allowed(request.user):
        raise PermissionDenied
    result = None
    kind = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid() and (rows := form.rows()) is not None:
            kind = form.cleaned_data["kind"]
            if kind == KIND_MEMBERS:
                result = members_import(
                    rows,
                    store=form.cleaned_data["store"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            else:
                result = purchases_import(rows, dry_run=form.cleaned_data["dry_run"])
    else:
        form = ImportForm()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Import from CSV"),
        "opts": model_admin.opts,
        "form": form,
        "result": result,
        "kind": kind,
        "max_rows": number_format(MAX_ROWS),
        "commands": COMMANDS,
        "template_urls": [
            (
                label,
                reverse("admin:members_member_import_template", args=[name]),
            )
            for name, label in (
                (KIND_MEMBERS, gettext("Members template")),
                (KIND_PURCHASES, gettext("Purchases template")),
            )
        ],
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/members/member/import.html", context)
