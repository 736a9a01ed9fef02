"""What every app's ModelAdmins share: the number display and fields, the
read-only, singleton and service-write mixins, the Counter permission.

The admin site itself is loyalty_site.admin_site: it mounts pages of several
apps (the Counter, the dashboards, Member 360), so it sits above them.
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers as admin_helpers
from django.contrib.admin import utils as admin_utils
from django.contrib.admin.templatetags import admin_list
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline
from modeltranslation.utils import build_localized_fieldname

from members.formatting import number_format
from members.imports import CsvUnreadable
from members.numbers import NUMBER_FORMFIELD_OVERRIDES

# The cashier's right: the Counter and the pages that link to it ask for it.
COUNTER_PERMISSION = "rewards.add_purchase"


def _number_overrides(admin_class, options: dict) -> dict:
    """admin_class's formfield_overrides with the plain number fields added."""
    own = options.get("formfield_overrides", admin_class.formfield_overrides)
    merged = {key: dict(value) for key, value in own.items()}
    for key, value in NUMBER_FORMFIELD_OVERRIDES.items():
        merged[key] = {**value, **merged.get(key, {})}
    return merged


# Whole-number fields that name a year or a serial number, not a quantity.
_NOT_A_QUANTITY = re.compile(r"(^|_)(year|number)$")


def display_for_field(value, field, empty_value_display, avoid_link=False):
    """Django's admin display of a field's value, with amounts and counts written
    by the one number format (members.formatting): the locale's group and
    decimal separators, a DecimalField's own decimals ("123 456,78", "1 234 567"
    in uk) where Django writes "123456,78". Choices, keys, years and serial
    numbers stay as Django writes them."""
    if (
        value not in (None, "")
        and not getattr(field, "flatchoices", None)
        and not isinstance(field, models.BooleanField)
    ):
        if isinstance(field, models.DecimalField):
            return number_format(value, field.decimal_places)
        if (
            isinstance(field, (models.IntegerField, models.FloatField))
            and not field.primary_key
            and not _NOT_A_QUANTITY.search(field.name or "")
        ):
            return number_format(value)
    return _django_display_for_field(value, field, empty_value_display, avoid_link)


# Django offers no hook for this: its changelists (admin_list) and read-only
# fields (helpers) call admin.utils.display_for_field by name, so both names
# are pointed here once, for every ModelAdmin of every app, present and future.
_django_display_for_field = admin_utils.display_for_field
admin_list.display_for_field = display_for_field
admin_helpers.display_for_field = display_for_field


class PlainNumbersAdminSite(admin.AdminSite):
    """An admin site whose ModelAdmins get plain-digit number fields.

    The project's site (loyalty_site.admin_site.LoyaltyAdminSite) is one; it
    lives above the apps because it mounts pages of several of them.
    """

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register as Django does, with plain-digit number fields (members.numbers)
        in the admin's forms and in its inlines' forms, unless it sets its own."""
        admin_class = admin_class or admin.ModelAdmin
        options["formfield_overrides"] = _number_overrides(admin_class, options)
        options["inlines"] = [
            type(
                inline.__name__,
                (inline,),
                {
                    "formfield_overrides": _number_overrides(inline, {}),
                    "__module__": inline.__module__,
                },
            )
            for inline in options.get("inlines", admin_class.inlines)
        ]
        super().register(model_or_iterable, admin_class, **options)


class ReadOnlyAdminMixin:
    """For rows that only services write (ledger, receipts, consent history).

    The admin shows them; nobody, not even a superuser, adds, edits or deletes
    them here.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SingletonAdminMixin:
    """A settings model of one row: the changelist opens that row; it cannot be
    added a second time or deleted. `singleton_get` returns the row, creating it."""

    singleton_get = None  # a selector such as program_settings_get

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not self.model.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        row = self.singleton_get()
        opts = self.model._meta
        return HttpResponseRedirect(
            reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[row.pk],
                current_app=self.admin_site.name,
            )
        )


class ServiceRefused(Exception):
    """A service refused a write that the admin form had let through (a race)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServiceWriteAdminMixin:
    """For ModelAdmins whose add/change forms write through a service.

    The form validates what it can; `save_form`/`save_model` call the service.
    Should the service still refuse (another request won a race), the admin's
    transaction rolls back and the user is sent back to the form with the
    service's message instead of a server error.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_related(self, request, form, formsets, change):
        # The services wrote the row and everything hanging off it; these
        # models have no many-to-many fields or inlines to save.
        return None


class TranslatedAdmin(TranslationAdmin):
    """A ModelAdmin for a model with texts in every language (modeltranslation):
    each translated field shows one tab per language, the default language's
    open first. The tabs are our own small script (static/js/translation_tabs.js),
    not jQuery UI from a CDN, which the Content Security Policy forbids."""

    class Media:
        js = ("js/translation_tabs.js",)
        css = {"all": ("css/translation_tabs.css",)}


class TranslatedStackedInline(TranslationStackedInline):
    """An inline of a model with texts in every language, tabbed like
    TranslatedAdmin (its Media joins the page's)."""

    class Media:
        js = ("js/translation_tabs.js",)
        css = {"all": ("css/translation_tabs.css",)}


def every_language(*fields: str) -> tuple[str, ...]:
    """Search fields for translated texts: `name` → name_uk, name_ru... so staff
    find a reward by any language's name, whichever language the admin is in."""
    return tuple(
        build_localized_fieldname(field, code)
        for field in fields
        for code, _name in settings.LANGUAGES
    )


def staff_partner_id(user) -> int | None:
    """The partner whose staff login `user` is (User.partner), or None for the
    program's own staff; a superuser is never scoped to a partner."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return None
    return user.partner_id


class PartnerScopedAdminMixin:
    """A ModelAdmin that a partner's staff login (User.partner, the Partner role)
    may open. For such a login it shows only the partner's own rows
    (`partner_queryset`), the `partner_*` columns, fields, filters and search
    instead of the program's (no member's personal data, no list filter that
    would list other partners' names), no actions and no change history (which
    names the program's staff), and it refuses every write whatever groups the
    login holds. The program's staff see the admin as it is."""

    partner_list_display: tuple | None = None
    partner_fields: tuple | None = None
    partner_list_filter: tuple = ()
    partner_search_fields: tuple = ()

    def partner_queryset(self, queryset, partner_id: int):
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        partner_id = staff_partner_id(request.user)
        if partner_id is None:
            return queryset
        return self.partner_queryset(queryset, partner_id)

    def _for_partner(self, request) -> bool:
        return staff_partner_id(request.user) is not None

    def get_list_display(self, request):
        if self._for_partner(request) and self.partner_list_display is not None:
            return self.partner_list_display
        return super().get_list_display(request)

    def get_list_filter(self, request):
        if self._for_partner(request):
            return self.partner_list_filter
        return super().get_list_filter(request)

    def get_search_fields(self, request):
        if self._for_partner(request):
            return self.partner_search_fields
        return super().get_search_fields(request)

    def get_fieldsets(self, request, obj=None):
        if self._for_partner(request) and self.partner_fields is not None:
            return [(None, {"fields": self.partner_fields})]
        return super().get_fieldsets(request, obj)

    def get_actions(self, request):
        if self._for_partner(request):
            return {}
        return super().get_actions(request)

    def has_add_permission(self, request, *args):
        return not self._for_partner(request) and super().has_add_permission(
            request, *args
        )

    def has_change_permission(self, request, obj=None):
        return not self._for_partner(request) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return not self._for_partner(request) and super().has_delete_permission(
            request, obj
        )

    def history_view(self, request, object_id, extra_context=None):
        if self._for_partner(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)


class CsvImportForm(forms.Form):
    """The upload of an admin CSV import page: the file and "only check".
    A subclass sets `max_rows` and says which server command takes bigger
    files (`commands_text`); `rows_read` gives the file's rows or a form error."""

    max_bytes = 5 * 1024 * 1024
    max_rows = 5000

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, comma or semicolon separated, with a header row."),
    )
    dry_run = forms.BooleanField(
        label=_("Only check the file; write nothing"), required=False
    )

    def commands_text(self) -> str:
        """The server command(s) for a file this page does not take."""
        raise NotImplementedError

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise forms.ValidationError(
                gettext("The file is larger than %(mb)s MB. Run on the server: %(cmd)s")
                % {"mb": self.max_bytes // (1024 * 1024), "cmd": self.commands_text()}
            )
        return upload

    def rows_read(self, read, *, command: str) -> list | None:
        """`read(content)` of the uploaded file, or None with a form error
        (unreadable, or more rows than this page imports at once)."""
        try:
            rows = read(self.cleaned_data["file"].read())
        except CsvUnreadable as exc:
            self.add_error("file", exc.message)
            return None
        if len(rows) > self.max_rows:
            self.add_error(
                "file",
                gettext(
                    "The file has %(rows)s rows; this page imports at most %(max)s "
                    "at once. Split it, or run on the server: %(command)s"
                )
                % {"rows": len(rows), "max": self.max_rows, "command": command},
            )
            return None
        return rows
