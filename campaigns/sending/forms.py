"""Forms of the campaign admin: the campaign's settings, a variant's texts
(checked in the sandbox) and the preview's member and variant."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.messaging.templating import template_check
from campaigns.models import Campaign, CampaignVariant, Survey
from campaigns.sending.services import schedule_time_problem
from members.errors import ServiceError
from members.models import Member
from members.selectors import member_get_by_card, member_get_by_phone


class CampaignVariantForm(forms.ModelForm):
    """A variant's texts; each must compile in the sandbox (unknown variables
    only warn, after saving)."""

    class Meta:
        model = CampaignVariant
        fields = [
            "label",
            *[
                f"{part}_{lang}"
                for lang, _name in settings.LANGUAGES
                for part in ("subject", "body")
            ],
        ]

    def clean(self):
        data = super().clean()
        for lang, _name in settings.LANGUAGES:
            for name in (f"subject_{lang}", f"body_{lang}"):
                errors = template_check(data.get(name) or "").errors
                if errors:
                    self.add_error(name, errors)
        return data


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "segment",
            "channel",
            "scheduled_at",
            "recurrence",
            "variant_b_percent",
            "holdout_percent",
            "window_days",
            "promotion",
            "bonus_points",
            "coupon_reward",
            "survey",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "survey" in self.fields:  # only open surveys can be sent
            self.fields["survey"].queryset = Survey.objects.filter(active=True)

    def clean(self):
        data = super().clean()
        if data.get("promotion") == "coupon" and not data.get("coupon_reward"):
            self.add_error(
                "coupon_reward", gettext("Choose the reward the coupon is for.")
            )
        if data.get("promotion") == "bonus" and not data.get("bonus_points"):
            self.add_error("bonus_points", gettext("Enter the bonus points."))
        if data.get("recurrence") and not data.get("scheduled_at"):
            self.add_error(
                "scheduled_at",
                gettext("A repeating campaign needs its first date and time."),
            )
        # Only a time typed now: an untouched one that just went by (a
        # scheduled campaign due this minute) must not block other edits.
        if "scheduled_at" in self.changed_data:
            past = schedule_time_problem(data.get("scheduled_at"))
            if past:
                self.add_error("scheduled_at", past)
        return data


class PreviewForm(forms.Form):
    member = forms.CharField(label=_("Member's phone or card number"), max_length=32)
    variant = forms.ChoiceField(label=_("Variant"), choices=[("A", "A"), ("B", "B")])

    def clean_member(self) -> Member:
        raw = self.cleaned_data["member"].strip()
        found = member_get_by_card(card_number=raw) if raw.isdigit() else None
        if found is None:
            try:
                found = member_get_by_phone(phone=raw)
            except ServiceError:
                found = None
        if found is None:
            raise forms.ValidationError(
                gettext("No member with this phone or card number.")
            )
        return found
