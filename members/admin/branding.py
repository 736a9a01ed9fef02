"""Back office for the program's branding: one row, opened from the changelist."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from members.admin_base import SingletonAdminMixin
from members.audit import StaffActor
from members.models import Branding
from members.services.branding import branding_ensure, branding_save


@admin.register(Branding)
class BrandingAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """Name, logo, colours and favicon of the portal, emails and the app."""

    singleton_get = staticmethod(branding_ensure)

    list_display = ("__str__", "program_name", "primary_color", "secondary_color")
    list_filter = ()
    search_fields = ("program_name",)
    fieldsets = (
        (None, {"fields": ("program_name", "short_name")}),
        (_("Pictures"), {"fields": ("logo", "favicon")}),
        (_("Colours"), {"fields": ("primary_color", "secondary_color")}),
        (None, {"fields": ("updated_at",)}),
    )
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        # Never: the changelist opens (and if need be creates) the one row. Not
        # asking the table whether it exists keeps every admin page's sidebar
        # free of a query for it.
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("primary_color", "secondary_color"):
            # The browser's colour picker; the model validates the #rrggbb text.
            field.widget.input_type = "color"
        return field

    def save_model(self, request, obj, form, change):
        branding_save(branding=obj, actor=StaffActor.from_request(request))
