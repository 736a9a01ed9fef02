"""Back office for promo codes: the promotions (a shared code or batches of
unique ones), generating a batch, its CSV, the uses, and the report of uses
and cost per code, batch, channel, store and day (page and CSV)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.admin_base import ReadOnlyAdminMixin, TranslatedAdmin, every_language
from members.audit import StaffActor
from members.csvexport import csv_response
from members.errors import InvalidInput
from members.formatting import money_format, number_format
from members.numbers import PlainIntegerField
from rewards.admin.base import member_search
from rewards.models import (
    PromoCode,
    PromoCodeBatch,
    PromoCodeKey,
    PromoCodeMode,
    PromoCodeUse,
)
from rewards.selectors.program import program_settings_get
from rewards.selectors.promocodes import (
    promo_report,
    promo_report_columns,
    promo_report_dimensions,
)
from rewards.services.promocode_batches import (
    MAX_BATCH,
    promo_batch_generate,
    promo_batch_rows,
    promo_code_check,
    promo_code_save,
    shared_code_clean,
)

REPORT_PERMISSION = "rewards.view_promocodeuse"
BATCH_PERMISSION = "rewards.add_promocodebatch"


class PromoCodeForm(forms.ModelForm):
    code = forms.CharField(
        label=_("code"),
        required=False,
        max_length=64,
        help_text=_(
            "For one shared code: what customers type, e.g. SPRING25 (upper case, "
            "spaces and dashes dropped). Unique codes are generated in batches."
        ),
    )

    class Meta:
        model = PromoCode
        fields = [
            "name",
            "description",
            "mode",
            "channel",
            "active",
            "effect",
            "points",
            "multiplier",
            "reward",
            "discount_amount",
            "discount_percent",
            "stacking",
            "starts_at",
            "ends_at",
            "stores",
            "min_spend",
            "tiers",
            "max_uses",
            "max_uses_per_member",
            "max_uses_per_day",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            key = self.instance.keys.filter(batch__isnull=True).first()
            if key is not None:
                self.fields["code"].initial = key.code

    def clean_code(self):
        code = self.cleaned_data.get("code", "")
        if self.cleaned_data.get("mode", self.instance.mode) != PromoCodeMode.SHARED:
            return ""
        if not code and self.instance.pk is None:
            raise forms.ValidationError(_("Enter the code customers type."))
        if not code:
            return ""
        try:
            return shared_code_clean(code, promo=self.instance)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None

    def _post_clean(self):
        super()._post_clean()
        try:
            promo_code_check(self.instance)
        except InvalidInput as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, exc.message)


class BatchForm(forms.Form):
    size = PlainIntegerField(label=_("codes"), min_value=1, max_value=MAX_BATCH)
    label = forms.CharField(label=_("label"), max_length=120, required=False)


class ReportForm(forms.Form):
    by = forms.ChoiceField(label=_("Per"), required=False)
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["by"].choices = list(promo_report_dimensions().items())


def _shown(row, columns, currency: str) -> list[str]:
    """A report row as the page shows it: money and numbers in the reader's locale."""
    cells = [row.label]
    for name, _header in columns:
        value = getattr(row, name)
        money = name in ("revenue", "discount", "money_cost")
        cells.append(money_format(value, currency) if money else number_format(value))
    return cells


@admin.register(PromoCode)
class PromoCodeAdmin(TranslatedAdmin):
    """Promotions with codes; saving goes through promo_code_save."""

    form = PromoCodeForm
    list_display = (
        "name",
        "mode",
        "effect",
        "channel",
        "stacking",
        "starts_at",
        "ends_at",
        "uses_count",
        "max_uses",
        "active",
    )
    list_filter = ("active", "mode", "effect", "channel", "stacking")
    search_fields = (*every_language("name"), "keys__code")
    list_select_related = ()
    autocomplete_fields = ("reward",)
    filter_horizontal = ("stores", "tiers")
    readonly_fields = ("uses_count",)
    fieldsets = (
        (
            None,
            {"fields": ("name", "description", "mode", "code", "channel", "active")},
        ),
        (
            _("Effect"),
            {
                "fields": (
                    "effect",
                    "points",
                    "multiplier",
                    "reward",
                    "discount_amount",
                    "discount_percent",
                    "stacking",
                )
            },
        ),
        (
            _("Where and when"),
            {"fields": ("starts_at", "ends_at", "stores", "min_spend", "tiers")},
        ),
        (
            _("Limits"),
            {
                "fields": (
                    "max_uses",
                    "max_uses_per_member",
                    "max_uses_per_day",
                    "uses_count",
                )
            },
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # its uses point at it; switch it off instead

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        promo_code_save(
            promo=obj,
            code=form.cleaned_data.get("code") or None,
            actor=StaffActor.from_request(request),
        )

    def changelist_view(self, request, extra_context=None):
        context = dict(extra_context or {})
        context["report_url"] = reverse("admin:rewards_promocode_report")
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        promo = self.get_object(request, object_id)
        if promo is not None and promo.mode == PromoCodeMode.BATCH:
            context["batch_url"] = reverse(
                "admin:rewards_promocode_batch", args=[promo.pk]
            )
        if promo is not None:
            context["report_url"] = (
                reverse("admin:rewards_promocode_report") + f"?promo={promo.pk}"
            )
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/", view(self.report_view), name="rewards_promocode_report"),
            path(
                "report/csv/",
                view(self.report_csv_view),
                name="rewards_promocode_report_csv",
            ),
            path(
                "<int:promo_id>/batch/",
                view(self.batch_view),
                name="rewards_promocode_batch",
            ),
            *super().get_urls(),
        ]

    def batch_view(self, request, promo_id: int):
        if not request.user.has_perm(BATCH_PERMISSION):
            raise PermissionDenied
        promo = get_object_or_404(PromoCode, pk=promo_id, mode=PromoCodeMode.BATCH)
        form = BatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            batch = promo_batch_generate(
                promo=promo,
                size=form.cleaned_data["size"],
                label=form.cleaned_data["label"],
                created_by=request.user,
            )
            messages.success(
                request,
                gettext("%(count)s codes generated.") % {"count": batch.size},
            )
            return redirect("admin:rewards_promocodebatch_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Generate codes for %(promo)s") % {"promo": promo.name},
            "opts": self.opts,
            "original": promo,
            "form": form,
        }
        return TemplateResponse(request, "admin/rewards/promocode/batch.html", context)

    def _report_args(self, request) -> dict:
        form = ReportForm(request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        promo = request.GET.get("promo", "")
        return {
            "form": form,
            "by": data.get("by") or "code",
            "start": data.get("start"),
            "end": data.get("end"),
            "promo_id": int(promo) if promo.isdigit() and len(promo) < 12 else None,
        }

    def report_view(self, request):
        if not request.user.has_perm(REPORT_PERMISSION):
            raise PermissionDenied
        args = self._report_args(request)
        form = args.pop("form")
        columns = promo_report_columns()
        rows = promo_report(**args)
        currency = program_settings_get().currency
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Promo code report"),
            "opts": self.opts,
            "form": form,
            "headers": [
                promo_report_dimensions()[args["by"]],
                *(h for _n, h in columns),
            ],
            "rows": [_shown(r, columns, currency) for r in rows],
            "csv_url": reverse("admin:rewards_promocode_report_csv")
            + ("?" + request.GET.urlencode() if request.GET else ""),
        }
        return TemplateResponse(request, "admin/rewards/promocode/report.html", context)

    def report_csv_view(self, request):
        if not request.user.has_perm(REPORT_PERMISSION):
            raise PermissionDenied
        args = self._report_args(request)
        args.pop("form")
        columns = promo_report_columns()
        header = [promo_report_dimensions()[args["by"]], *(h for _n, h in columns)]
        rows = (
            [r.label, *(getattr(r, n) for n, _h in columns)]
            for r in promo_report(**args)
        )
        return csv_response(
            f"promo-codes-{args['by']}-{timezone.localdate():%Y-%m-%d}.csv",
            [header, *rows],
        )


@admin.register(PromoCodeBatch)
class PromoCodeBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Batches are generated from their promotion's page; here they are read
    and their codes downloaded."""

    list_display = ("__str__", "promo", "size", "created_by", "created_at")
    list_filter = ("promo__channel", "created_at")
    search_fields = ("label", *every_language("promo__name"))
    list_select_related = ("promo", "created_by")
    actions = ("download_codes",)

    @admin.action(description=_("Download the codes as CSV"))
    def download_codes(self, request, queryset):
        batch = queryset.order_by("pk").first()
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Choose one batch to download."), messages.WARNING
            )
            return None
        return csv_response(
            f"promo-codes-batch-{batch.pk}.csv", promo_batch_rows(batch)
        )


@admin.register(PromoCodeKey)
class PromoCodeKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "promo", "batch", "uses_count", "max_uses")
    list_filter = ("promo__mode", "promo__channel")
    search_fields = ("code",)
    list_select_related = ("promo", "batch", "batch__promo")
    show_full_result_count = False  # a batch may hold a million codes


@admin.register(PromoCodeUse)
class PromoCodeUseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "used_at",
        "key",
        "promo",
        "member",
        "store",
        "source",
        "points",
        "discount",
        "revenue",
        "reversed_at",
    )
    list_filter = ("source", "effect", "promo__channel", "store")
    search_fields = ("key__code", *member_search(""))
    list_select_related = ("key", "promo", "member", "store")
    date_hierarchy = "used_on"
