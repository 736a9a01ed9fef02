"""Back office for earning: the program settings (one row) and the earning rules,
with their simulator."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.admin_base import SingletonAdminMixin, TranslatedAdmin, every_language
from members.audit import StaffActor
from rewards.earning import STAGES
from rewards.forms import EarningRuleForm, RuleSimulateForm
from rewards.models import EarningRule, ProgramSettings
from rewards.services.earning import (
    earning_rule_activate,
    earning_rule_pause,
    earning_rule_save,
    program_settings_ensure,
    program_settings_save,
)
from rewards.simulator import rule_simulate


@admin.register(ProgramSettings)
class ProgramSettingsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """One row: the changelist opens it, it cannot be added twice or deleted."""

    singleton_get = staticmethod(program_settings_ensure)

    list_display = (
        "__str__",
        "currency",
        "points_per_unit",
        "min_purchase",
        "point_value",
    )
    list_filter = ("currency",)
    search_fields = ("currency",)
    fields = (
        "currency",
        "points_per_unit",
        "min_purchase",
        "point_value",
        "earn_cap_percent",
        "points_expire_months",
        "pending_days",
        "started_on",
        "backdate_days",
        "updated_at",
    )
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        program_settings_save(settings_row=obj, actor=StaffActor.from_request(request))


@admin.register(EarningRule)
class EarningRuleAdmin(TranslatedAdmin):
    """Earning rules and promotions. The list shows the fixed order they apply
    in; drafts are tried in the simulator before they are put into force."""

    form = EarningRuleForm
    change_list_template = "admin/rewards/earningrule/change_list.html"
    list_display = (
        "name",
        "kind",
        "status",
        "category",
        "sku",
        "multiplier",
        "points_per_unit",
        "weekdays",
        "time_from",
        "time_to",
        "starts_at",
        "ends_at",
    )
    list_filter = ("status", "kind", "stores")
    search_fields = (*every_language("name"), "category", "sku")
    list_select_related = ("replaces",)
    autocomplete_fields = ("replaces",)
    filter_horizontal = ("stores",)
    actions = ("activate", "pause")
    fieldsets = (
        (None, {"fields": ("name", "kind", "status", "replaces")}),
        (_("Which lines"), {"fields": ("category", "sku")}),
        (_("What it gives"), {"fields": ("multiplier", "points_per_unit")}),
        (
            _("When and where"),
            {
                "fields": (
                    "starts_at",
                    "ends_at",
                    "weekdays",
                    "time_from",
                    "time_to",
                    "stores",
                )
            },
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # earn breakdowns name it; pause it instead

    def save_model(self, request, obj, form, change):
        pass  # saved with its stores in save_related, through the service

    def save_related(self, request, form, formsets, change):
        earning_rule_save(rule=form.instance, stores=form.cleaned_data["stores"])

    @admin.action(description=_("Put into force"), permissions=["change"])
    def activate(self, request, queryset):
        for rule in queryset:
            earning_rule_activate(rule=rule)
        self.message_user(request, _("Rules put into force."), messages.SUCCESS)

    @admin.action(description=_("Pause"), permissions=["change"])
    def pause(self, request, queryset):
        for rule in queryset:
            earning_rule_pause(rule=rule)
        self.message_user(request, _("Rules paused."), messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "simulate/",
                self.admin_site.admin_view(self.simulate_view),
                name="rewards_earningrule_simulate",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"stages": STAGES, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def simulate_view(self, request):
        """Recompute past receipts with and without a rule; writes nothing."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        initial = {"start": today - dt.timedelta(days=90), "end": today}
        if request.GET.get("rule"):
            initial["rule"] = request.GET["rule"]
        form = RuleSimulateForm(
            request.GET if "start" in request.GET else None, initial=initial
        )
        result = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            tz = timezone.get_current_timezone()
            result = rule_simulate(
                rule=data["rule"],
                start=dt.datetime.combine(data["start"], dt.time.min, tz),
                end=dt.datetime.combine(
                    data["end"] + dt.timedelta(days=1), dt.time.min, tz
                ),
                store_id=data["store"].pk if data["store"] else None,
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Rule simulator"),
            "form": form,
            "result": result,
            "stages": STAGES,
            "changelist_url": reverse("admin:rewards_earningrule_changelist"),
        }
        return TemplateResponse(
            request, "admin/rewards/earningrule/simulate.html", context
        )
