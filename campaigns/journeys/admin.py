"""Back office of the automated journeys: one journey per kind, off until
switched on, with its texts per language (their variables checked)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from campaigns.journeys.render import text_errors, variables_allowed, variables_unknown
from campaigns.journeys.services import journey_save, journeys_switch
from campaigns.messaging.templating import FILTERS
from campaigns.models import Journey
from members.admin_base import TranslatedAdmin, every_language
from members.audit import StaffActor


class JourneyForm(forms.ModelForm):
    """The journey's settings and its texts; every language's subject and text
    may use only the variables of this journey's kind."""

    class Meta:
        model = Journey
        fields = (
            "kind",
            "enabled",
            "channel",
            "days",
            *(
                f"{part}_{lang}"
                for lang, _name in settings.LANGUAGES
                for part in ("subject", "body")
            ),
        )

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.instance.kind or ""
        for lang, _name in settings.LANGUAGES:
            for name in (f"subject_{lang}", f"body_{lang}"):
                for error in text_errors(data.get(name) or "", kind=kind):
                    self.add_error(name, error)
                unknown = variables_unknown(data.get(name) or "", kind=kind)
                if unknown:
                    self.add_error(
                        name,
                        _("Unknown variables: %(names)s. Known: %(known)s.")
                        % {
                            "names": ", ".join(unknown),
                            "known": ", ".join(sorted(variables_allowed(kind))),
                        },
                    )
        if not any(data.get(f"body_{lang}") for lang, _name in settings.LANGUAGES):
            self.add_error(
                f"body_{settings.LANGUAGE_CODE}",
                _("Write the text in at least one language."),
            )
        return data


@admin.register(Journey)
class JourneyAdmin(TranslatedAdmin):
    """A journey per kind, off until switched on, with its texts per language."""

    list_display = ("kind", "enabled", "channel", "days", "languages", "updated_at")
    list_filter = ("enabled", "channel")
    search_fields = ("kind", *every_language("body", "subject"))
    list_editable = ("enabled",)
    form = JourneyForm
    fields = (
        "kind",
        "enabled",
        "channel",
        "days",
        "segment",
        "subject",
        "body",
        "variables",
    )
    readonly_fields = ("variables",)
    actions = ["switch_on", "switch_off"]

    def has_delete_permission(self, request, obj=None):
        return False  # switch it off instead: its messages refer to it by kind

    def save_model(self, request, obj, form, change):
        # Also the changelist's "enabled" column (list_editable) saves here.
        journey_save(journey=obj, actor=StaffActor.from_request(request))

    @admin.display(description=_("languages"))
    def languages(self, obj: Journey) -> str:
        return ", ".join(obj.languages())

    @admin.display(description=_("variables"))
    def variables(self, obj: Journey | None) -> str:
        kind = obj.kind if obj is not None and obj.pk else ""
        return format_html(
            "<ul>{}</ul><p>{}</p><ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{{{{ {} }}}}</code> — {}</li>",
                variables_allowed(kind).items(),
            ),
            _(
                "Numbers and dates print in the language of the text. "
                "Filters you can use:"
            ),
            format_html_join("", "<li><code>{}</code> — {}</li>", FILTERS.items()),
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
