"""The member admin: enrolment through member_enroll, changes through the
services, the anonymize action. rewards.admin.members extends it with points."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.admin.sources import CHANGE_PERMISSION as SOURCE_PERMISSION
from members.admin.sources import member_source_view
from members.admin_base import (
    ServiceRefused,
    ServiceWriteAdminMixin,
)
from members.audit import StaffActor, member_viewed_record
from members.errors import InvalidInput, ServiceError
from members.formatting import datetime_format, number_format
from members.models import (
    Channel,
    ConsentSource,
    ErasureSource,
    Member,
    PushSubscription,
)
from members.phones import phone_normalize
from members.privacy import ANONYMIZE_PERMISSION, member_anonymize
from members.selectors import member_search
from members.services import (
    PROFILE_FIELDS,
    member_change,
    member_enroll,
)

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
        "source",
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
                    "picked_interests",
                    "interests",
                    "home_store",
                )
            },
        ),
        (
            _("Marketing consent"),
            {
                "fields": (
                    *(
                        (f"{c}_consent", f"{c}_consent_at", f"{c}_consent_source")
                        for c in Channel.values
                    ),
                    "push_devices_display",
                    "telegram_chat_id",
                )
            },
        ),
        (
            _("Enrollment"),
            {"fields": ("user", "enrolled_at", "enrolled_store", "enrolled_by")},
        ),
        (
            _("Came from"),
            {
                "fields": (
                    ("source", "referred_by", "first_seen_at"),
                    ("utm_source", "utm_medium", "utm_campaign"),
                )
            },
        ),
    )
    readonly_fields = (
        "card_number",
        "referral_code",
        "phone",
        "balance",
        "push_devices_display",
        *(f"{c}_consent_at" for c in Channel.values),
        *(f"{c}_consent_source" for c in Channel.values),
        "telegram_chat_id",
        "user",
        "enrolled_at",
        "enrolled_store",
        "enrolled_by",
        "source",
        "referred_by",
        "first_seen_at",
        "utm_source",
        "utm_medium",
        "utm_campaign",
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

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "picked_interests":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return (
            self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)
        )

    @admin.display(description=_("web push devices"))
    def push_devices_display(self, obj: Member):
        """The browsers the member turned notifications on in (they add and
        remove them in the portal; delivery drops the ones a push service
        says are gone)."""
        if obj is None or not obj.push_devices:
            return "—"
        rows = format_html_join(
            "",
            "<li>{} · {} · {}</li>",
            (
                (
                    s.user_agent or "?",
                    datetime_format(s.last_success_at) if s.last_success_at else "—",
                    s.last_error or "",
                )
                for s in PushSubscription.objects.filter(member=obj).order_by("pk")
            ),
        )
        return format_html('<ul class="push-devices">{}</ul>', rows)

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
            if request.user.has_perm(SOURCE_PERMISSION):
                context["source_url"] = reverse(
                    "admin:members_member_source", args=[member.pk]
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
                "<path:object_id>/source/",
                self.admin_site.admin_view(self.source_view),
                name="members_member_source",
            ),
            path(
                "<path:object_id>/anonymize/",
                self.admin_site.admin_view(self.anonymize_view),
                name="members_member_anonymize",
            ),
            *super().get_urls(),
        ]

    def source_view(self, request, object_id):
        """Correct where the member came from (members.admin.sources)."""
        return member_source_view(
            request, self.get_object(request, unquote(object_id)), admin=self
        )

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
