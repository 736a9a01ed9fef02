"""The admin's CSV upload of daily store sales (analytics.imports), with the
row errors and a dry run. For staff who may add and change store sales."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from analytics.imports import (
    STORE_SALES_COLUMNS,
    store_sales_csv_read,
    store_sales_import,
    store_sales_template,
)
from members.admin_base import CsvImportForm
from members.csvexport import csv_response
from members.formatting import number_format

PERMISSIONS = ("analytics.add_storesales", "analytics.change_storesales")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20000
COMMAND = "manage.py import_store_sales FILE"


def store_sales_import_allowed(user) -> bool:
    return user.is_active and user.is_staff and user.has_perms(PERMISSIONS)


class StoreSalesImportForm(CsvImportForm):
    max_bytes = MAX_BYTES
    max_rows = MAX_ROWS

    def commands_text(self) -> str:
        return COMMAND

    def rows(self):
        """The file's rows, or a form error (unreadable, too many rows)."""
        return self.rows_read(store_sales_csv_read, command=COMMAND)


def store_sales_import_urls(model_admin) -> list:
    site = model_admin.admin_site
    return [
        path(
            "import/",
            site.admin_view(
                lambda request: store_sales_import_view(model_admin, request)
            ),
            name="analytics_storesales_import",
        ),
        path(
            "import/template.csv",
            site.admin_view(store_sales_template_view),
            name="analytics_storesales_import_template",
        ),
    ]


def store_sales_template_view(request) -> HttpResponse:
    if not store_sales_import_allowed(request.user):
        raise PermissionDenied
    return csv_response("store-sales-template.csv", store_sales_template())


def store_sales_import_view(model_admin, request):
    if not store_sales_import_allowed(request.user):
        raise PermissionDenied
    result = None
    if request.method == "POST":
        form = StoreSalesImportForm(request.POST, request.FILES)
        if form.is_valid() and (rows := form.rows()) is not None:
            result = store_sales_import(
                rows, entered_by=request.user, dry_run=form.cleaned_data["dry_run"]
            )
    else:
        form = StoreSalesImportForm()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Import store sales from CSV"),
        "opts": model_admin.opts,
        "form": form,
        "result": result,
        "columns": ", ".join(STORE_SALES_COLUMNS),
        "command": COMMAND,
        "max_rows": number_format(MAX_ROWS),
        "template_url": reverse("admin:analytics_storesales_import_template"),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/analytics/storesales/import.html", context)
