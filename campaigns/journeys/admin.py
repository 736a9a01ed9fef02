"""Back office of the automated journeys: one journey per kind, off until
switched on, with its texts per language (their variables checked)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from campaigns.journeys.render import variables_allowed, variables_unknown
from campaigns.journeys.services import journey_save, journeys_switch
from campaigns.models import Journey, JourneyText
from members.audit import StaffActor


class JourneyTextForm(forms.ModelForm):
    class Meta:
        model = JourneyText
        fields = ("language", "subject", "body")

    def clean(self):
        data = super().clean()
        journey = self.instance.journey if self.instance.journey_id else None
        kind = getattr(self, "journey_kind", None) or (journey.kind if journey else "")
        for name in ("subject", "body"):
            unknown = variables_unknown(data.get(name, ""), kind=kind)
            if unknown:
                self.add_error(
                    name,
                    _("Unknown variables: %(names)s. Known: %(known)s.")
                    % {
                        "names": ", ".join(unknown),
                        "known": ", ".join(sorted(variables_allowed(kind))),
                    },
                )
        return data


class JourneyTextInline(admin.StackedInline):
    model = JourneyText
    form = JourneyTextForm
    extra = 0
    min_num = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        kind = obj.kind if obj is not None else request.POST.get("kind", "")
        formset.form = type("JourneyTextFormFor", (self.form,), {"journey_kind": kind})
        return formset


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    """A journey per kind, off until switched on, with its texts per language."""

    list_display = ("kind", "enabled", "channel", "days", "languages", "updated_at")
    list_filter = ("enabled", "channel")
    search_fields = ("kind", "texts__body", "texts__subject")
    list_editable = ("enabled",)
    fields = ("kind", "enabled", "channel", "days", "variables")
    readonly_fields = ("variables",)
    inlines = [JourneyTextInline]
    actions = ["switch_on", "switch_off"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("texts")

    def has_delete_permission(self, request, obj=None):
        return False  # switch it off instead: its messages refer to it by kind

    def save_model(self, request, obj, form, change):
        # Also the changelist's "enabled" column (list_editable) saves here.
        journey_save(journey=obj, actor=StaffActor.from_request(request))

    @admin.display(description=_("languages"))
    def languages(self, obj: Journey) -> str:
        return ", ".join(sorted(text.language for text in obj.texts.all()))

    @admin.display(description=_("variables"))
    def variables(self, obj: Journey | None) -> str:
        kind = obj.kind if obj is not None and obj.pk else ""
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{{{{ {} }}}}</code> — {}</li>",
                variables_allowed(kind).items(),
            ),
        )

    @admin.action(description=_("Switch on"), permissions=["change"])
    def switch_on(self, request, queryset):
        journeys_switch(
            journey_ids=list(queryset.values_list("pk", flat=True)), enabled=True
        )

    @admin.action(description=_("Switch off"), permissions=["change"])
    def switch_off(self, request, queryset):
        journeys_switch(
            journey_ids=list(queryset.values_list("pk", flat=True)), enabled=False
        )
