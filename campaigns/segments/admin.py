"""Segments in the back office (Marketers and Managers): a row builder for the
conditions with a live preview (count and a sample of members) before saving,
and the upload of a static list."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from campaigns.models import Segment, SegmentKind
from campaigns.reasons import unmatched_row_reason
from campaigns.segments.conditions import SegmentError, builder_schema
from campaigns.segments.definition import segment_validate
from campaigns.segments.selectors import segment_count, segment_sample
from campaigns.segments.services import (
    segment_csv_read,
    segment_delete,
    segment_import_csv,
    segment_save,
)
from members.admin_base import ServiceRefused, ServiceWriteAdminMixin
from members.audit import StaffActor
from members.cards import card_number_format
from members.csvexport import csv_response
from members.errors import ServiceError

SAMPLE_SIZE = 10
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class SegmentForm(forms.ModelForm):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=SegmentKind.choices,
        initial=SegmentKind.RULES,
        widget=forms.RadioSelect,
        help_text=_(
            "Conditions are checked each time the segment is used; an uploaded "
            "list stays as uploaded."
        ),
    )
    definition = forms.CharField(
        label=_("Conditions (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "vLargeTextField"}),
        help_text=_(
            'Filled in by the builder above. By hand: {"op": "and" or "or", '
            '"conditions": [{"field": …, "op": …, "value": …} or a nested group]}.'
        ),
    )
    file = forms.FileField(
        label=_("CSV file of phones or card numbers"),
        required=False,
        help_text=_(
            "One phone or card number per row (first column, or a column named "
            "phone or card); a header row is optional."
        ),
    )
    replace = forms.BooleanField(
        label=_("Replace the list (otherwise the file's members are added)"),
        required=False,
    )

    class Meta:
        model = Segment
        fields = ["name", "description"]

    allowed_fields: tuple[str, ...] | None = None  # set by SegmentAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.allowed_fields is not None:
            # Declared fields stay on a ModelForm whatever `fields` says.
            for name in list(self.fields):
                if name not in self.allowed_fields:
                    del self.fields[name]
        if self.instance.pk and "definition" in self.fields:
            self.initial["definition"] = json.dumps(
                self.instance.definition or {}, ensure_ascii=False
            )
        self.csv_rows = None

    def _kind(self) -> str:
        if self.instance.pk:
            return self.instance.kind
        return self.cleaned_data.get("kind") or SegmentKind.RULES

    def clean_definition(self):
        raw = self.cleaned_data.get("definition") or ""
        if "kind" in self.fields and self.data.get("kind") == SegmentKind.STATIC:
            return {}
        try:
            return segment_validate(raw.strip() or {})
        except SegmentError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(mb)s MB.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        if upload:
            try:
                segment_csv_read(upload.read())
            except ServiceError as exc:
                raise forms.ValidationError(exc.message) from None
            upload.seek(0)
        return upload

    def clean(self):
        cleaned = super().clean()
        kind = self._kind()
        if (
            kind == SegmentKind.STATIC
            and not self.instance.pk
            and not cleaned.get("file")
            and "file" not in self.errors
        ):
            self.add_error("file", gettext("Upload the list of members."))
        if kind == SegmentKind.RULES and cleaned.get("file"):
            self.add_error(
                "file",
                gettext(
                    "A segment of conditions takes no file; choose “Uploaded list”."
                ),
            )
        return cleaned


@admin.register(Segment)
class SegmentAdmin(ServiceWriteAdminMixin, admin.ModelAdmin):
    form = SegmentForm
    change_form_template = "admin/campaigns/segment/change_form.html"
    list_display = ("name", "kind", "description_short", "updated_at", "updated_by")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    list_select_related = ("updated_by",)
    readonly_fields = ("upload_summary",)
    ordering = ("name",)

    @admin.display(description=_("description"))
    def description_short(self, obj: Segment) -> str:
        text = obj.description or ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description=_("last upload"))
    def upload_summary(self, obj: Segment) -> str:
        summary = obj.import_summary or {}
        if not summary:
            return "—"
        head = format_html(
            "{}",
            gettext(
                "%(file)s: %(rows)s rows, %(matched)s matched a member, "
                "%(added)s added to the list."
            )
            % {
                "file": summary.get("file") or gettext("file"),
                "rows": summary.get("rows", 0),
                "matched": summary.get("matched", 0),
                "added": summary.get("added", 0),
            },
        )
        unmatched = summary.get("unmatched") or []
        if not unmatched:
            return head
        url = reverse("admin:campaigns_segment_unmatched", args=[obj.pk])
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (row["line"], row["value"], unmatched_row_reason(row))
                for row in unmatched[:200]
            ),
        )
        return format_html(
            '{}<p id="segment-unmatched-count">{}</p>'
            '<p><a href="{}">{}</a></p>'
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            head,
            ngettext(
                "%(n)s row matched no member.",
                "%(n)s rows matched no member.",
                len(unmatched),
            )
            % {"n": len(unmatched)},
            url,
            gettext("Download the unmatched rows (CSV)"),
            gettext("Line"),
            gettext("Value"),
            gettext("Why"),
            rows,
        )

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["name", "description"]})
        if obj is None:
            return [
                (None, {"fields": ["name", "description", "kind"]}),
                (_("Conditions as JSON"), {"fields": ["definition"]}),
                (_("List upload"), {"fields": ["file"]}),
            ]
        if obj.kind == SegmentKind.STATIC:
            return [
                main,
                (
                    _("List upload"),
                    {"fields": ["file", "replace", "upload_summary"]},
                ),
            ]
        return [main, (_("Conditions as JSON"), {"fields": ["definition"]})]

    def get_readonly_fields(self, request, obj=None):
        return ("upload_summary",) if obj and obj.kind == SegmentKind.STATIC else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        names = [
            name
            for name in flatten_fieldsets(self.get_fieldsets(request, obj))
            if name not in self.get_readonly_fields(request, obj)
        ]
        kwargs["fields"] = names
        form_class = super().get_form(request, obj, change=change, **kwargs)
        form_class.allowed_fields = tuple(names)
        return form_class

    # --- writes through the services ---

    def save_form(self, request, form, change):
        data = form.cleaned_data
        kind = form.instance.kind if change else data.get("kind")
        try:
            return segment_save(
                name=data["name"],
                description=data.get("description", ""),
                definition=data.get("definition") or {},
                by=request.user,
                segment=Segment.objects.get(pk=form.instance.pk) if change else None,
                kind=kind,
            )
        except (ServiceError, SegmentError) as exc:
            raise ServiceRefused(exc.message) from exc

    def delete_model(self, request, obj):
        segment_delete(segment=obj, actor=StaffActor.from_request(request))

    def delete_queryset(self, request, queryset):
        actor = StaffActor.from_request(request)
        for segment in queryset:
            segment_delete(segment=segment, actor=actor)

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("file")
        if not upload or obj.kind != SegmentKind.STATIC:
            return
        try:
            result = segment_import_csv(
                segment=obj,
                file=upload,
                by=request.user,
                replace=bool(form.cleaned_data.get("replace")),
            )
        except ServiceError as exc:
            raise ServiceRefused(exc.message) from exc
        level = messages.WARNING if result.unmatched else messages.SUCCESS
        self.message_user(
            request,
            gettext(
                "%(matched)s of %(rows)s rows matched a member; %(added)s added to "
                "the list; %(unmatched)s matched no one (listed on the segment)."
            )
            % {
                "matched": result.matched,
                "rows": result.rows,
                "added": result.added,
                "unmatched": len(result.unmatched),
            },
            level,
        )

    # --- the builder, the preview and the unmatched rows ---

    def get_urls(self):
        site = self.admin_site
        return [
            path(
                "preview/",
                site.admin_view(self.preview_view),
                name="campaigns_segment_preview",
            ),
            path(
                "<path:object_id>/unmatched.csv",
                site.admin_view(self.unmatched_view),
                name="campaigns_segment_unmatched",
            ),
            *super().get_urls(),
        ]

    def _may_preview(self, request) -> bool:
        return self.has_add_permission(request) or self.has_change_permission(request)

    def _preview(self, request, source) -> dict:
        """Count and sample of a definition or a saved segment, for the page
        or the JSON endpoint."""
        if isinstance(source, Segment):
            target = source
        else:
            try:
                target = segment_validate(source or {})
            except SegmentError as exc:
                return {"ok": False, **exc.as_dict()}
        see_members = request.user.has_perm("members.view_member")
        sample = []
        for member in segment_sample(target, n=SAMPLE_SIZE):
            account = getattr(member, "account", None)
            sample.append(
                {
                    "id": member.pk,
                    "name": member.full_name or "—",
                    "phone": member.phone,
                    "card": card_number_format(member.card_number),
                    "tier": account.tier.name if account and account.tier else "—",
                    "balance": account.balance if account else 0,
                    "url": reverse("admin:members_member_change", args=[member.pk])
                    if see_members
                    else "",
                }
            )
        count = segment_count(target)
        return {
            "ok": True,
            "count": count,
            "count_text": ngettext(
                "%(count)s member matches.", "%(count)s members match.", count
            )
            % {"count": count},
            "sample": sample,
        }

    def preview_view(self, request):
        """POST {definition}: JSON {ok, count, count_text, sample} or
        {ok: false, error, path, field} with status 400."""
        if not self._may_preview(request):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse(
                {"ok": False, "error": gettext("Send the conditions with POST.")},
                status=405,
            )
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return JsonResponse(
                    {
                        "ok": False,
                        "error": gettext("The request is not JSON."),
                        "field": "definition",
                    },
                    status=400,
                )
            definition = body.get("definition") if isinstance(body, dict) else None
        else:
            definition = request.POST.get("definition", "")
        result = self._preview(request, definition)
        return JsonResponse(result, status=200 if result["ok"] else 400)

    def unmatched_view(self, request, object_id):
        segment = self.get_object(request, unquote(object_id))
        if segment is None:
            raise Http404(gettext("No such segment."))
        if not self.has_view_or_change_permission(request, segment):
            raise PermissionDenied
        unmatched = (segment.import_summary or {}).get("unmatched", [])
        return csv_response(
            f"segment-{segment.pk}-unmatched.csv",
            [
                ["line", "value", "reason"],
                *(
                    [row["line"], row["value"], unmatched_row_reason(row)]
                    for row in unmatched
                ),
            ],
        )

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        context["segment_schema"] = builder_schema()
        context["segment_preview_url"] = reverse("admin:campaigns_segment_preview")
        context["segment_is_static"] = bool(obj and obj.kind == SegmentKind.STATIC)
        if (
            obj is not None
            and obj.kind == SegmentKind.STATIC
            and "segment_preview" not in context
        ):
            context["segment_preview"] = self._preview(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_preview" in request.POST:
            return self._changeform_preview(request, object_id, form_url)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _changeform_preview(self, request, object_id, form_url):
        """Without JavaScript: the Preview button posts the form; it comes back
        as typed, with the count and sample, and nothing is saved."""
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and obj is None:
            raise Http404(gettext("No such segment."))
        add = obj is None
        allowed = (
            self.has_add_permission(request)
            if add
            else self.has_change_permission(request, obj)
        )
        if not allowed:
            raise PermissionDenied
        fieldsets = self.get_fieldsets(request, obj)
        form_class = self.get_form(request, obj, change=not add)
        form = form_class(request.POST, instance=obj)
        form.is_valid()  # shows what is wrong; nothing is saved either way
        preview = self._preview(request, request.POST.get("definition", ""))
        admin_form = helpers.AdminForm(
            form,
            list(fieldsets),
            {},
            self.get_readonly_fields(request, obj),
            model_admin=self,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": (_("Add %s") if add else _("Change %s")) % self.opts.verbose_name,
            "subtitle": str(obj) if obj else None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "segment_preview": preview,
        }
        return self.render_change_form(
            request, context, add=add, change=not add, obj=obj, form_url=form_url
        )
