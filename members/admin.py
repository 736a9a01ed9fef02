"""Back office for people and places: staff users, stores, members, tokens, consent.

Members are enrolled and changed through members.services; the admin never
saves them itself. rewards.admin.members extends the member admin with the
points ledger, the adjustment page and the CSV import.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from members.admin_base import (
    ReadOnlyAdminMixin,
    ServiceRefused,
    ServiceWriteAdminMixin,
    SingletonAdminMixin,
)
from members.anomalies import anomaly_flags_review
from members.audit import StaffActor, member_viewed_record
from members.errors import InvalidInput, ServiceError
from members.formatting import number_format
from members.models import (
    AdjustmentRequest,
    AdjustmentStatus,
    AnomalyFlag,
    AnomalyStatus,
    ApiToken,
    BonusSettings,
    ConsentEvent,
    ConsentSource,
    ErasureSource,
    Member,
    MemberErasure,
    Referral,
    ReferralStatus,
    StaffAuditEvent,
    StaffControls,
    Store,
    User,
)
from members.phones import phone_normalize
from members.privacy import ANONYMIZE_PERMISSION, member_anonymize
from members.selectors import bonus_settings_get, member_search, staff_controls_get
from members.services import (
    PROFILE_FIELDS,
    api_token_create,
    api_token_delete,
    api_token_revoke,
    bonus_settings_save,
    member_change,
    member_enroll,
    referral_approve,
    referral_refuse,
    staff_controls_save,
    store_delete,
    store_save,
    user_delete,
    user_save,
)
from rewards.services import adjustment_approve, adjustment_refuse

# --- Staff users and stores --------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Store"), {"fields": ("store",)}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            _("Staff"),
            {"classes": ("wide",), "fields": ("email", "is_staff", "store", "groups")},
        ),
    )
    list_display = ("username", "email", "first_name", "last_name", "store", "is_staff")
    list_filter = (*DjangoUserAdmin.list_filter, "store")
    list_select_related = ("store",)
    autocomplete_fields = ("store",)

    def save_model(self, request, obj, form, change):
        user_save(user=obj, actor=StaffActor.from_request(request))

    def delete_model(self, request, obj):
        user_delete(user=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for user in queryset:
            user_delete(user=user, actor=actor)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "address", "timezone", "partner", "is_active")
    list_filter = ("is_active", "timezone", "partner")
    list_select_related = ("partner",)
    search_fields = ("code", "name", "address")
    prepopulated_fields = {"code": ("name",)}

    def save_model(self, request, obj, form, change):
        store_save(store=obj, actor=StaffActor.from_request(request))

    def delete_model(self, request, obj):
        store_delete(store=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for store in queryset:
            store_delete(store=store, actor=actor)


# --- Members -------------------------------------------------------------------------


def _member_email_clean(
    email: str | None, *, exclude_pk: int | None = None
) -> str | None:
    email = (email or "").strip().lower() or None
    if email:
        taken = (
            Member.objects.filter(email__iexact=email).exclude(pk=exclude_pk).first()
        )
        if taken:
            raise ValidationError(
                _("This email is already enrolled with card %(card)s."),
                params={"card": taken.card_number},
                code="email_taken",
            )
    return email


class MemberAddForm(forms.ModelForm):
    """Enrollment by staff: checks what member_enroll would refuse, so it shows on the form."""

    phone = forms.CharField(
        label=_("phone"),
        max_length=32,
        help_text=_("Any usual form, e.g. 067 123 45 67 or +380671234567."),
    )

    class Meta:
        model = Member
        fields = (
            "phone",
            "email",
            "first_name",
            "last_name",
            "birthday",
            "gender",
            "language",
            "home_store",
            "sms_consent",
            "email_consent",
        )

    def clean_phone(self) -> str:
        try:
            phone = phone_normalize(self.cleaned_data["phone"])
        except InvalidInput as exc:
            raise ValidationError(exc.message, code="invalid") from None
        taken = Member.objects.filter(phone=phone).first()
        if taken:
            raise ValidationError(
                _("This phone is already enrolled with card %(card)s."),
                params={"card": taken.card_number},
                code="phone_taken",
            )
        return phone

    def clean_email(self) -> str | None:
        return _member_email_clean(self.cleaned_data.get("email"))


class MemberChangeForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = (*PROFILE_FIELDS, "email", "sms_consent", "email_consent")

    def clean_email(self) -> str | None:
        return _member_email_clean(
            self.cleaned_data.get("email"), exclude_pk=self.instance.pk
        )


@admin.register(Member)
class MemberAdmin(ServiceWriteAdminMixin, admin.ModelAdmin):
    form = MemberChangeForm
    add_form = MemberAddForm
    change_form_template = "admin/members/member/change_form.html"
    list_display = (
        "card_number",
        "full_name_display",
        "phone",
        "email",
        "balance",
        "home_store",
        "sms_consent",
        "email_consent",
        "enrolled_at",
    )
    list_filter = (
        "home_store",
        "sms_consent",
        "email_consent",
        "language",
        "gender",
        "enrolled_at",
    )
    list_select_related = ("account", "home_store")
    search_fields = ("phone", "card_number", "email", "first_name", "last_name")
    search_help_text = _("Phone (any format), card number, email or name.")
    autocomplete_fields = ("home_store",)
    date_hierarchy = "enrolled_at"
    add_fieldsets = (
        (None, {"fields": ("phone", "first_name", "last_name", "email")}),
        (_("Profile"), {"fields": ("birthday", "gender", "language", "home_store")}),
        (_("Marketing consent"), {"fields": ("sms_consent", "email_consent")}),
    )
    fieldsets = (
        (None, {"fields": ("card_number", "phone", "balance", "referral_code")}),
        (
            _("Profile"),
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    "birthday",
                    "gender",
                    "language",
                    "timezone",
                    "interests",
                    "home_store",
                )
            },
        ),
        (
            _("Marketing consent"),
            {
                "fields": (
                    ("sms_consent", "sms_consent_at", "sms_consent_source"),
                    ("email_consent", "email_consent_at", "email_consent_source"),
                )
            },
        ),
        (
            _("Enrollment"),
            {"fields": ("user", "enrolled_at", "enrolled_store", "enrolled_by")},
        ),
    )
    readonly_fields = (
        "card_number",
        "referral_code",
        "phone",
        "balance",
        "sms_consent_at",
        "sms_consent_source",
        "email_consent_at",
        "email_consent_source",
        "user",
        "enrolled_at",
        "enrolled_store",
        "enrolled_by",
    )

    def has_delete_permission(self, request, obj=None):
        # A member's ledger is append-only and protects the account; erasure
        # will be a service of its own.
        return False

    @admin.display(description=_("name"), ordering="last_name")
    def full_name_display(self, obj: Member) -> str:
        return obj.full_name

    @admin.display(description=_("balance"), ordering="account__balance")
    def balance(self, obj: Member) -> str | None:
        account = getattr(obj, "account", None)
        return number_format(account.balance) if account else None

    def get_fieldsets(self, request, obj=None):
        return (
            self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.user.store_id:
            initial.setdefault("home_store", request.user.store_id)
        return initial

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        # The plain search matches text as typed; member_search also knows
        # that "067 123 45 67" is +380671234567 and that cards have spaces.
        ids = [m.pk for m in member_search(query=search_term, limit=50)]
        if ids:
            found = found | queryset.filter(pk__in=ids)
        return found, may_have_duplicates

    # --- writes, all through the services ---

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        try:
            member = member_enroll(
                phone=data["phone"],
                email=data.get("email"),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                birthday=data.get("birthday"),
                gender=data.get("gender", ""),
                language=data.get("language") or None,
                store=data.get("home_store") or request.user.store,
                enrolled_by=request.user,
                sms_consent=data.get("sms_consent", False),
                email_consent=data.get("email_consent", False),
                source=ConsentSource.ADMIN,
                actor=StaffActor.from_request(request),
            )
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc
        return member

    def save_model(self, request, obj, form, change):
        if not change:
            return  # member_enroll saved it in save_form
        # form.instance already holds the new values; the services compare
        # against what is stored, so give them the stored row.
        current = Member.objects.get(pk=obj.pk)
        try:
            member_change(
                member=current,
                changes={name: form.cleaned_data[name] for name in form.changed_data},
                source=ConsentSource.ADMIN,
                actor=StaffActor.from_request(request),
            )
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc

    # --- the change page: audit and erasure links ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        member = self.get_object(request, unquote(object_id))
        if member is not None:
            if request.method == "GET":
                member_viewed_record(
                    actor=StaffActor.from_request(request), member=member, where="admin"
                )
            if request.user.has_perm("members.view_staffauditevent"):
                context["audit_url"] = "{}?{}".format(
                    reverse("admin:members_staffauditevent_changelist"),
                    urlencode({"member": member.pk}),
                )
            if request.user.has_perm(ANONYMIZE_PERMISSION) and not hasattr(
                member, "erasure"
            ):
                context["anonymize_url"] = reverse(
                    "admin:members_member_anonymize", args=[member.pk]
                )
            context.update(self.member_context(request, member))
        return super().change_view(request, object_id, form_url, context)

    def member_context(self, request, member: Member) -> dict:
        """More for the change page of `member`: apps above members extend this
        admin (rewards.admin.members adds the points ledger)."""
        return {}

    def get_urls(self):
        # Before the stock URLs: "<path:object_id>/" would swallow this one.
        return [
            path(
                "<path:object_id>/anonymize/",
                self.admin_site.admin_view(self.anonymize_view),
                name="members_member_anonymize",
            ),
            *super().get_urls(),
        ]

    def anonymize_view(self, request, object_id):
        """Erase a member's personal data (Managers only), after a confirmation."""
        if not request.user.has_perm(ANONYMIZE_PERMISSION):
            raise PermissionDenied
        member = self.get_object(request, unquote(object_id))
        if member is None:
            raise Http404(gettext("No member with this id."))
        change_url = reverse("admin:members_member_change", args=[member.pk])
        if request.method == "POST":
            try:
                member_anonymize(
                    member=member,
                    actor=StaffActor.from_request(request),
                    source=ErasureSource.ADMIN,
                )
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext(
                        "The member's personal data was erased; points and "
                        "purchases are kept."
                    ),
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Anonymize member"),
            "subtitle": str(member),
            "opts": self.opts,
            "original": member,
            "member": member,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/members/member/anonymize.html", context)


# --- Consent history, API tokens -----------------------------------------------------


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "member",
        "channel",
        "granted",
        "source",
        "changed_by",
    )
    list_filter = ("channel", "granted", "source", "created_at")
    list_select_related = ("member", "changed_by")
    search_fields = (
        "member__card_number",
        "member__phone",
        "member__email",
        "member__last_name",
    )
    date_hierarchy = "created_at"


class ApiTokenStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("active", _("Active")), ("revoked", _("Revoked")))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceWriteAdminMixin, admin.ModelAdmin):
    """Till tokens: created by api_token_create, shown raw once, revoked by an action.

    The key hash is never displayed; an existing token cannot be edited.
    """

    list_display = (
        "name",
        "store",
        "prefix_display",
        "created_at",
        "last_used_at",
        "is_active_display",
    )
    list_filter = (ApiTokenStatusFilter, "store")
    list_select_related = ("store",)
    search_fields = ("name", "prefix", "store__code", "store__name")
    autocomplete_fields = ("store",)
    actions = ("revoke",)
    add_fields = ("store", "name")
    view_fields = (
        "store",
        "name",
        "prefix_display",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    @admin.display(description=_("starts with"))
    def prefix_display(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"

    @admin.display(description=_("active"), boolean=True, ordering="revoked_at")
    def is_active_display(self, obj: ApiToken) -> bool:
        return obj.is_active

    def has_change_permission(self, request, obj=None):
        # The changelist (and the revoke action) need the permission; a token
        # itself is never edited.
        return obj is None and super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.view_fields

    def save_form(self, request, form, change):
        try:
            token, raw = api_token_create(
                store=form.cleaned_data["store"], name=form.cleaned_data["name"]
            )
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc
        token._raw_token = raw  # shown by response_add, never stored
        return token

    def save_model(self, request, obj, form, change):
        return None  # api_token_create saved it in save_form

    def delete_model(self, request, obj):
        api_token_delete(token=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for token in queryset:
            api_token_delete(token=token, actor=actor)

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(obj, "_raw_token", None)
        if raw:
            self.message_user(
                request,
                gettext(
                    "The token for %(name)s is %(token)s. Copy it into the till now: "
                    "it is not stored and will not be shown again."
                )
                % {"name": obj.name, "token": raw},
                messages.SUCCESS,
            )
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(
            request,
            ngettext(
                "%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)
            )
            % {"count": len(tokens)},
            messages.SUCCESS,
        )


# --- Bonuses and referrals -------------------------------------------------------------


@admin.register(BonusSettings)
class BonusSettingsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """One row: the changelist opens it, it cannot be added twice or deleted."""

    singleton_get = staticmethod(bonus_settings_get)

    list_display = (
        "__str__",
        "welcome_points",
        "profile_points",
        "birthday_points",
        "referee_points",
        "referrer_points",
    )
    list_filter = ("updated_at",)
    search_fields = ("welcome_points",)
    fieldsets = (
        (
            _("Bonuses"),
            {
                "fields": (
                    "welcome_points",
                    "profile_points",
                    "birthday_points",
                    "birthday_reward",
                )
            },
        ),
        (
            _("Referrals"),
            {
                "fields": (
                    "referee_points",
                    "referrer_points",
                    "referral_min_purchase",
                    "referral_cap_per_month",
                    "referral_review_per_day",
                )
            },
        ),
        (None, {"fields": ("updated_at",)}),
    )
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        bonus_settings_save(settings_row=obj, actor=StaffActor.from_request(request))


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Referrals are written by enrollment and purchases; staff only review them."""

    list_display = (
        "created_at",
        "referrer",
        "referee_phone",
        "status",
        "refusal_reason",
        "review_note",
        "qualified_at",
    )
    list_filter = ("status", "refusal_reason", "created_at")
    list_select_related = ("referrer", "referee", "decided_by")
    search_fields = (
        "referrer__card_number",
        "referrer__phone",
        "referrer__referral_code",
        "referee__card_number",
        "referee_phone",
    )
    date_hierarchy = "created_at"
    readonly_fields = (
        "referrer",
        "referee",
        "referee_phone",
        "status",
        "refusal_reason",
        "review_note",
        "created_at",
        "qualified_at",
        "decided_by",
    )
    fields = readonly_fields
    actions = ("approve", "refuse")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, service, done_message) -> None:
        done = 0
        skipped = queryset.exclude(status=ReferralStatus.REVIEW).count()
        for referral in queryset.filter(status=ReferralStatus.REVIEW):
            try:
                service(referral=referral, by=request.user)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                done += 1
        self.message_user(request, done_message(done), messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d referral was not waiting for review and was left as it is.",
                    "%(count)d referrals were not waiting for review and were left as they are.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(
        description=_("Approve the selected referrals"), permissions=["change"]
    )
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            referral_approve,
            lambda n: (
                ngettext(
                    "%(count)d referral approved.", "%(count)d referrals approved.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(
        description=_("Refuse the selected referrals"), permissions=["change"]
    )
    def refuse(self, request, queryset):
        self._decide(
            request,
            queryset,
            referral_refuse,
            lambda n: (
                ngettext(
                    "%(count)d referral refused.", "%(count)d referrals refused.", n
                )
                % {"count": n}
            ),
        )


# --- Staff controls, adjustment approvals, audit log, erasures ------------------------


@admin.register(StaffControls)
class StaffControlsAdmin(SingletonAdminMixin, admin.ModelAdmin):
    """One row: the approval threshold and the cashier daily limits."""

    singleton_get = staticmethod(staff_controls_get)

    list_display = (
        "__str__",
        "adjustment_approval_threshold",
        "cashier_daily_redeemed_points",
        "cashier_daily_returns",
    )
    list_filter = ("updated_at",)
    search_fields = ("adjustment_approval_threshold",)
    fields = (
        "adjustment_approval_threshold",
        "cashier_daily_redeemed_points",
        "cashier_daily_returns",
        "anomaly_member_daily_transactions",
        "anomaly_cashier_daily_operations",
        "anomaly_return_window_days",
        "anomaly_adjustment_points",
        "updated_at",
    )
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        staff_controls_save(controls=obj, actor=StaffActor.from_request(request))


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The queue of manual adjustments above the threshold. Managers approve or
    refuse them with the actions (never their own); nothing here is edited."""

    list_display = (
        "requested_at",
        "member",
        "points",
        "reason",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", ("requested_by", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("member", "requested_by", "decided_by")
    search_fields = ("member__card_number", "member__phone", "reason")
    date_hierarchy = "requested_at"
    fields = (
        "member",
        "points",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "ledger_entry",
    )
    readonly_fields = fields
    actions = ("approve", "refuse")

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("members.approve_adjustmentrequest")

    def changelist_view(self, request, extra_context=None):
        # The queue opens on what waits for a decision.
        if not request.GET and request.method == "GET":
            return HttpResponseRedirect(
                f"{request.path}?status__exact={AdjustmentStatus.PENDING}"
            )
        return super().changelist_view(request, extra_context)

    def _decide(self, request, queryset, service, done_text) -> None:
        actor = StaffActor.from_request(request)
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                _adjustment, replayed = service(adjustment_id=pk, actor=actor)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                done += not replayed
        self.message_user(request, done_text(done), messages.SUCCESS)

    @admin.action(
        description=_("Approve the selected adjustments"), permissions=["approve"]
    )
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            adjustment_approve,
            lambda n: (
                ngettext(
                    "%(count)d adjustment approved.",
                    "%(count)d adjustments approved.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(
        description=_("Refuse the selected adjustments"), permissions=["approve"]
    )
    def refuse(self, request, queryset):
        self._decide(
            request,
            queryset,
            adjustment_refuse,
            lambda n: (
                ngettext(
                    "%(count)d adjustment refused.", "%(count)d adjustments refused.", n
                )
                % {"count": n}
            ),
        )


class AuditMemberFilter(admin.SimpleListFilter):
    """The member's events, reached from the member page's "Audit log" link."""

    title = _("member")
    parameter_name = "member"

    def lookups(self, request, model_admin):
        value = self.value()
        if value and value.isdigit():
            member = Member.objects.filter(pk=value).first()
            if member is not None:
                return ((str(member.pk), str(member)),)
        return ()

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            if not value.isdigit():
                return queryset.none()
            return queryset.filter(member_id=int(value))
        return queryset


@admin.register(StaffAuditEvent)
class StaffAuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who did what, and who opened whose data. Read-only for everyone."""

    list_display = (
        "created_at",
        "actor",
        "action",
        "member",
        "object_type",
        "object_id",
        "ip",
    )
    list_filter = (
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        AuditMemberFilter,
        "created_at",
    )
    list_select_related = ("actor", "member")
    search_fields = (
        "actor__username",
        "member__card_number",
        "object_id",
        "ip",
    )
    search_help_text = _("Staff username, card number, object id or IP address.")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "action",
        "member",
        "object_type",
        "object_id",
        "details",
        "ip",
    )
    readonly_fields = fields
    show_full_result_count = False  # a COUNT(*) over the whole log on every page


@admin.register(MemberErasure)
class MemberErasureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Members who were anonymized, by whom and when (done from the member page)."""

    list_display = ("created_at", "member", "source", "requested_by")
    list_filter = ("source", "created_at")
    list_select_related = ("member", "requested_by")
    search_fields = ("member__card_number",)
    date_hierarchy = "created_at"
    fields = ("member", "source", "requested_by", "created_at")
    readonly_fields = fields


# --- Anomaly monitoring --------------------------------------------------------------


@admin.register(AnomalyFlag)
class AnomalyFlagAdmin(admin.ModelAdmin):
    """Unusual activity found by the nightly scan. Managers dismiss or confirm
    flags with the actions (anomaly_flags_review); nothing else is edited."""

    list_display = (
        "day",
        "rule",
        "subject_kind",
        "member",
        "user",
        "details",
        "status",
        "reviewed_by",
        "reviewed_at",
    )
    list_filter = ("rule", "status", "subject_kind", "day")
    list_select_related = ("member", "user", "reviewed_by")
    search_fields = ("member__card_number", "member__phone", "user__username")
    search_help_text = _("Card number, phone or staff username.")
    date_hierarchy = "day"
    fields = (
        "day",
        "rule",
        "subject_kind",
        "member",
        "user",
        "details",
        "status",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "note",
    )
    readonly_fields = fields
    actions = ("dismiss", "confirm")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _review(self, request, queryset, status, done_text) -> None:
        done = anomaly_flags_review(
            flag_ids=list(queryset.values_list("pk", flat=True)),
            status=status,
            by=request.user,
        )
        self.message_user(request, done_text(done), messages.SUCCESS)

    @admin.action(description=_("Dismiss the selected flags"), permissions=["change"])
    def dismiss(self, request, queryset):
        self._review(
            request,
            queryset,
            AnomalyStatus.DISMISSED,
            lambda n: (
                ngettext("%(count)d flag dismissed.", "%(count)d flags dismissed.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Confirm the selected flags"), permissions=["change"])
    def confirm(self, request, queryset):
        self._review(
            request,
            queryset,
            AnomalyStatus.CONFIRMED,
            lambda n: (
                ngettext("%(count)d flag confirmed.", "%(count)d flags confirmed.", n)
                % {"count": n}
            ),
        )
