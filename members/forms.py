"""Customer portal forms. They validate input; the views hand it to services."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.errors import ServiceError
from members.messages import channels_available, member_address
from members.models import Channel, Gender, Interest, Member, User

MAX_INTERESTS = 20
MAX_INTEREST_LENGTH = 50


def _helper(submit_label) -> FormHelper:
    helper = FormHelper()
    helper.form_method = "post"
    helper.add_input(Submit("submit", submit_label, css_class="w-100 btn-lg"))
    return helper


class ServiceErrorFormMixin:
    """Shows a service's refusal on the field it names, or above the form."""

    def add_service_error(self, error: ServiceError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class LoginForm(AuthenticationForm):
    """The portal's login: customers sign in with their email (members.auth
    also takes a staff username), so the field and its error say "email", not
    Django's "username"; neither is case-sensitive there."""

    username = forms.CharField(label=_("Email"), max_length=254)
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "This email and password do not match an account. Check both and try again."
        ),
    }


class SignupForm(ServiceErrorFormMixin, forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        # The email becomes the login's username, the shorter of the two columns.
        max_length=User._meta.get_field("username").max_length,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        help_text=_("The number you give at the till, e.g. 067 123 45 67."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    first_name = forms.CharField(label=_("First name"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    language = forms.ChoiceField(
        label=_("Preferred language"), choices=settings.LANGUAGES
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    referral_code = forms.CharField(
        label=_("Friend's referral code"),
        max_length=20,
        required=False,
        help_text=_("Optional: you both get bonus points."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Sign up"))

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class ClaimCodeForm(ServiceErrorFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Confirm"))


class InterestsField(forms.CharField):
    """Comma-separated text in, a list of distinct, non-empty interests out."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def clean(self, value):
        text = super().clean(value) or ""
        interests: list[str] = []
        for part in text.split(","):
            item = " ".join(part.split())
            if item and item.casefold() not in (i.casefold() for i in interests):
                interests.append(item)
        if len(interests) > MAX_INTERESTS:
            raise forms.ValidationError(
                _("List at most %(max)s interests.") % {"max": MAX_INTERESTS}
            )
        if any(len(item) > MAX_INTEREST_LENGTH for item in interests):
            raise forms.ValidationError(
                _("Keep each interest under %(max)s characters.")
                % {"max": MAX_INTEREST_LENGTH}
            )
        return interests


class ProfileForm(ServiceErrorFormMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    email = forms.EmailField(
        label=_("Email"), max_length=Member._meta.get_field("email").max_length
    )
    birthday = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    gender = forms.ChoiceField(
        label=_("Gender"), choices=Gender.choices, required=False
    )
    picked_interests = forms.ModelMultipleChoiceField(
        label=_("Interests"),
        queryset=Interest.objects.active(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Pick what you like: our offers and suggestions follow it."),
    )
    interests = InterestsField(
        label=_("Other interests"),
        required=False,
        max_length=1200,
        help_text=_("Separate them with commas, e.g. books, running."),
    )
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=settings.LANGUAGES,
        help_text=_(
            "The language of our emails and text messages to you. The site's "
            "language is chosen in the menu."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save"))

    @classmethod
    def initial_for(cls, member: Member) -> dict:
        interests = member.interests if isinstance(member.interests, list) else []
        return {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email or "",
            "birthday": member.birthday,
            "gender": member.gender,
            "picked_interests": list(member.picked_interests.active()),
            "interests": interests,
            "language": member.language,
        }

    def clean_birthday(self):
        birthday = self.cleaned_data.get("birthday")
        if birthday and birthday > timezone.localdate():
            raise forms.ValidationError(_("The birthday cannot be in the future."))
        if birthday and birthday.year < 1900:
            raise forms.ValidationError(_("Enter a real birthday."))
        return birthday


# The consent checkbox of each channel, and what it says when the member has
# no address there yet.
CONSENT_LABELS = {
    Channel.EMAIL: _("Send me offers by email"),
    Channel.SMS: _("Send me offers by SMS"),
    Channel.TELEGRAM: _("Send me offers in Telegram"),
    Channel.VIBER: _("Send me offers in Viber"),
    Channel.PUSH: _("Send me offers as notifications on my phone"),
}
NO_ADDRESS_ERRORS = {
    Channel.EMAIL: _("Add an email address in your profile first."),
    Channel.SMS: _("Add a phone number in your profile first."),
    Channel.TELEGRAM: _("Link your Telegram first."),
    Channel.VIBER: _("Add a phone number in your profile first."),
    Channel.PUSH: _("Turn on notifications on this device first."),
}


class PreferencesForm(ServiceErrorFormMixin, forms.Form):
    """Marketing consent per channel this installation can send by
    (members.messages.channels_available), the preferred channel and hour."""

    preferred_channel = forms.ChoiceField(
        label=_("How should we write to you?"), required=False
    )
    preferred_send_hour = forms.TypedChoiceField(
        label=_("Best time for our messages"),
        choices=[("", _("Any time")), *[(h, f"{h:02d}:00") for h in range(24)]],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, member: Member, **kwargs):
        self.member = member
        super().__init__(*args, **kwargs)
        self.consent_channels = channels_available()
        consents = {
            channel: forms.BooleanField(label=CONSENT_LABELS[channel], required=False)
            for channel in self.consent_channels
        }
        # The checkboxes first, in Channel's order, then the preferences.
        self.fields = {**consents, **self.fields}
        self.fields["preferred_channel"].choices = [
            ("", _("Email if I gave one, else SMS")),
            *[(c, Channel(c).label) for c in self.consent_channels],
        ]
        self.helper = _helper(_("Save preferences"))

    @classmethod
    def initial_for(cls, member: Member) -> dict:
        return {
            **{c: getattr(member, f"{c}_consent") for c in Channel.values},
            "preferred_channel": member.preferred_channel,
            "preferred_send_hour": member.preferred_send_hour,
        }

    def clean(self):
        cleaned = super().clean()
        for channel in self.consent_channels:
            if (
                cleaned.get(channel)
                and not getattr(self.member, f"{channel}_consent")
                and not member_address(self.member, channel)
            ):
                self.add_error(channel, NO_ADDRESS_ERRORS[channel])
        return cleaned


class AccountDeleteForm(forms.Form):
    """ "Delete my account": the password again, so a left-open session cannot."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Delete my account"))
        self.helper.inputs[0].field_classes = "btn btn-danger w-100 btn-lg"

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not right."))
        return password


class LeaveReasonForm(forms.Form):
    """The optional leaving question: one tap on a reason (each is a submit
    button named "reason"), words only for a reason that asks for them."""

    reason = forms.ChoiceField(label=_("Why are you leaving?"))
    text = forms.CharField(
        label=_("In your words (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self.reasons = reasons
        self.fields["reason"].choices = [(r.code, r.name) for r in reasons]
        self.fields["reason"].error_messages["required"] = _(
            "Choose one of the reasons offered."
        )
        self.fields["reason"].error_messages["invalid_choice"] = _(
            "Choose one of the reasons offered."
        )
