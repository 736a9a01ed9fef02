"""Staff forms for the Counter and the admin's points adjustment.

The forms only check the shape of the input; the services decide. A refused
service call comes back as a ServiceError, which `service_error_to_form` turns
into a form error on the field it names.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.errors import InvalidInput, ServiceError
from members.formatting import datetime_format, money_format
from members.models import Store
from members.numbers import PlainDecimalField, PlainIntegerField
from rewards.models import EarningRule, Purchase, Reward
from rewards.selectors.memberships import membership_plans_on_sale
from rewards.services.earning import earning_rule_check


def service_error_to_form(
    form: forms.Form, exc: ServiceError, *, aliases: dict[str, str] | None = None
) -> None:
    """Show a refused service call on the form field it names, or above the form."""
    field = (aliases or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def receipt_id_new(prefix: str, store: Store | None) -> str:
    """A receipt id for a sale rung up at the Counter, unique to the microsecond.

    It is put in the form when the page is drawn, so submitting the same form
    twice (a double click, a browser retry) replays instead of earning twice.
    """
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
    return f"{prefix}-{store.code}-{stamp}" if store else f"{prefix}-{stamp}"


class CounterSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Phone, card number or name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


class CounterEnrollForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=32)
    first_name = forms.CharField(label=_("First name"), max_length=80, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=80, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    sms_consent = forms.BooleanField(
        label=_("Agrees to receive offers by SMS"), required=False
    )
    email_consent = forms.BooleanField(
        label=_("Agrees to receive offers by email"), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("email_consent") and not data.get("email"):
            self.add_error("email", _("Enter the email the offers should go to."))
        return data


class _StoreMixin:
    """A `store` select, shown only to staff without a home store."""

    def _store_setup(self, store: Store | None) -> None:
        self.fixed_store = store
        if store is not None:
            del self.fields["store"]
        else:
            self.fields["store"].queryset = Store.objects.filter(is_active=True)

    @property
    def store(self) -> Store:
        return self.fixed_store or self.cleaned_data["store"]


def _store_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none())


class CounterPurchaseForm(_StoreMixin, forms.Form):
    prefix = "purchase"  # three forms share the page; keep their field ids apart
    total = PlainDecimalField(
        label=_("Amount"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    receipt_id = forms.CharField(label=_("Receipt id"), max_length=64)
    promo_code = forms.CharField(
        label=_("Promo code"),
        max_length=64,
        required=False,
        help_text=_(
            "If the customer has one. With a discount code, enter the amount paid "
            "after the discount."
        ),
    )
    store = _store_field()

    def __init__(self, *args, store: Store | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._store_setup(store)
        self.fields["receipt_id"].initial = receipt_id_new("C", store)


class _PurchaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Purchase) -> str:
        return _(
            "%(date)s · %(store)s #%(receipt)s · %(total)s (returnable %(left)s)"
        ) % {
            "date": datetime_format(timezone.localtime(obj.occurred_at)),
            "store": obj.store.code,
            "receipt": obj.receipt_id,
            "total": money_format(obj.total),
            "left": money_format(obj.returnable_total),
        }


class CounterReturnForm(_StoreMixin, forms.Form):
    prefix = "return"
    purchase = _PurchaseChoiceField(
        label=_("Purchase"), queryset=Purchase.objects.none()
    )
    amount = PlainDecimalField(
        label=_("Amount returned"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    receipt_id = forms.CharField(label=_("Return receipt id"), max_length=64)
    store = _store_field()

    def __init__(self, *args, purchases, store: Store | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._store_setup(store)
        self.fields["purchase"].queryset = purchases
        self.fields["receipt_id"].initial = receipt_id_new("CR", store)


class CounterRedeemForm(_StoreMixin, forms.Form):
    prefix = "redeem"
    points = PlainIntegerField(
        label=_("Points"),
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    receipt_id = forms.CharField(label=_("Receipt id"), max_length=64)
    store = _store_field()

    def __init__(self, *args, store: Store | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._store_setup(store)
        self.fields["receipt_id"].initial = receipt_id_new("CD", store)


class PointsAdjustForm(forms.Form):
    points = PlainIntegerField(
        label=_("Points"),
        help_text=_("Positive to add points, negative to take them away."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Kept in the ledger for ever; say why, e.g. the ticket number."),
    )
    # Drawn with the form so that submitting it twice adjusts once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = uuid.uuid4().hex

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Enter a number of points other than zero."))
        return points


class RewardRedeemForm(forms.Form):
    """The customer's Redeem button: only a key drawn with the page, so a double
    click or a browser retry redeems once."""

    reward = forms.ModelChoiceField(
        queryset=Reward.objects.all(), widget=forms.HiddenInput
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, reward: Reward | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward"].initial = reward.pk if reward else None
        self.fields["idempotency_key"].initial = uuid.uuid4().hex


class PromoCodeEnterForm(forms.Form):
    """The customer's "Enter a code" box; the key drawn with the page makes a
    double submit count once."""

    code = forms.CharField(
        label=_("Promo code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off"}
        ),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = uuid.uuid4().hex


class CounterVoucherForm(_StoreMixin, forms.Form):
    prefix = "voucher"
    code = forms.CharField(
        label=_("Voucher code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters"}
        ),
    )
    receipt_id = forms.CharField(label=_("Receipt id"), max_length=64)
    store = _store_field()

    def __init__(self, *args, store: Store | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._store_setup(store)
        self.fields["receipt_id"].initial = receipt_id_new("CV", store)


WEEKDAYS = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]


class EarningRuleForm(forms.ModelForm):
    """The admin's rule form: weekdays as checkboxes, the service's checks as form errors."""

    weekdays = forms.MultipleChoiceField(
        label=_("weekdays"),
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked = every day."),
    )

    class Meta:
        model = EarningRule
        fields = (
            "name",
            "kind",
            "status",
            "replaces",
            "category",
            "sku",
            "multiplier",
            "points_per_unit",
            "starts_at",
            "ends_at",
            "weekdays",
            "time_from",
            "time_to",
            "stores",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.weekdays:
            self.initial["weekdays"] = list(self.instance.weekdays)

    def clean_weekdays(self) -> str:
        return "".join(sorted(self.cleaned_data.get("weekdays") or []))

    def _post_clean(self) -> None:
        super()._post_clean()
        try:
            earning_rule_check(self.instance)
        except InvalidInput as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)


class RuleSimulateForm(forms.Form):
    """The simulator's question: which rule, over which past days, where."""

    rule = forms.ModelChoiceField(
        label=_("Rule"), queryset=EarningRule.objects.order_by("status", "name")
    )
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.order_by("name"),
        required=False,
        empty_label=_("All stores"),
    )

    MAX_DAYS = 731

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end must be after the start."))
            elif (end - start).days > self.MAX_DAYS:
                self.add_error("end", _("Simulate at most two years at once."))
        return data


class CounterMembershipForm(_StoreMixin, forms.Form):
    """Sell (or renew) a paid membership paid at this till."""

    prefix = "membership"
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=None)
    receipt_id = forms.CharField(label=_("Receipt id"), max_length=64)
    store = _store_field()

    def __init__(self, *args, store: Store | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._store_setup(store)
        self.fields["plan"].queryset = membership_plans_on_sale()
        self.fields["receipt_id"].initial = receipt_id_new("CM", store)


class MembershipBuyForm(forms.Form):
    """The portal's "Pay online" button of one plan."""

    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=membership_plans_on_sale(),
        error_messages={"invalid_choice": _("This plan is not on sale.")},
    )
    auto_renew = forms.BooleanField(label=_("Renew automatically"), required=False)
