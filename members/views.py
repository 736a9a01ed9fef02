"""Customer portal pages of members alone. Thin: forms validate, services
write, selectors read. The pages that show other apps too (the landing page,
the dashboard) are loyalty_site.views.portal; both are mounted in the "portal"
namespace by loyalty_site/urls.py.

A page only ever shows the member linked to the logged-in user
(`member_get_for_user`); no URL takes a member, card or entry id.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from members.audit import StaffActor
from members.cards import card_number_format
from members.errors import ServiceError
from members.forms import (
    AccountDeleteForm,
    ClaimCodeForm,
    LeaveReasonForm,
    PreferencesForm,
    ProfileForm,
    SignupForm,
)
from members.links import absolute_url
from members.middleware import first_touch_from_request
from members.models import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ErasureSource,
    LeaveTrigger,
    Member,
)
from members.password_reset import client_ip, password_reset_request
from members.privacy import member_anonymize, member_data_export
from members.push import push_keys_configured, push_optin_context
from members.selectors import (
    leave_reasons_offered,
    member_get_for_user,
    referral_get_by_code,
    referrals_for_member,
)
from members.services import (
    leave_occasion_read,
    leave_reason_path,
    leave_reason_record,
    member_claim_verify,
    member_consent_set,
    member_signup,
    member_update_profile,
    push_subscription_delete,
    push_subscription_save,
)
from members.telegram_portal import telegram_block

LOGIN_BACKEND = "members.auth.EmailOrUsernameBackend"
CLAIM_SESSION_KEY = "portal_claim"
CONSENT_HISTORY_LIMIT = 50


@require_GET
@never_cache
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse(
            {"status": "error", "database": "unavailable", "error": type(exc).__name__},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})


def member_required(view):
    """Log in first; then pass the user's own member, or explain that there is none.

    Staff logins have no membership: they get a page that says so, not an error.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        member = member_get_for_user(user=request.user)
        if member is None:
            return render(request, "members/no_member.html", status=403)
        return view(request, member, *args, **kwargs)

    return wrapper


def _posted(request):
    """The submitted data, or None on GET (an all-unticked form posts nothing)."""
    return request.POST if request.method == "POST" else None


def _mask(destination: str) -> str:
    """Enough of a phone or address for people to recognise it, not to harvest it."""
    if "@" in destination:
        name, _sep, domain = destination.partition("@")
        return f"{name[:1]}•••@{domain}"
    return f"{destination[:4]}•••••{destination[-2:]}"


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    form = SignupForm(
        _posted(request),
        initial={
            "language": translation.get_language(),
            "referral_code": request.GET.get("ref", "")[:20],
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = member_signup(
                email=data["email"],
                password=data["password1"],
                phone=data["phone"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                language=data["language"],
                referral_code=data["referral_code"],
                first_touch=first_touch_from_request(request),
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            if result.pending_code is not None:
                otp = result.pending_code
                request.session[CLAIM_SESSION_KEY] = {
                    "otp_id": otp.pk,
                    "channel": otp.channel,
                    "to": _mask(otp.destination),
                }
                return redirect("portal:signup_verify")
            login(request, result.user, backend=LOGIN_BACKEND)
            messages.success(
                request,
                _("Welcome! Your card number is %(card)s.")
                % {"card": card_number_format(result.member.card_number)},
            )
            return redirect("portal:dashboard")
    return render(request, "members/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def signup_verify(request):
    """The second step of claiming a membership enrolled at the counter."""
    claim = request.session.get(CLAIM_SESSION_KEY)
    if not isinstance(claim, dict) or "otp_id" not in claim:
        messages.info(request, _("Sign up first; we will then send you a code."))
        return redirect("portal:signup")
    form = ClaimCodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = member_claim_verify(
                otp_id=claim["otp_id"], code=form.cleaned_data["code"]
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            del request.session[CLAIM_SESSION_KEY]
            login(request, user, backend=LOGIN_BACKEND)
            messages.success(
                request, _("Your card is now linked to your online account.")
            )
            return redirect("portal:dashboard")
    context = {
        "form": form,
        "by_sms": claim.get("channel") == Channel.SMS,
        "sent_to": claim.get("to", ""),
    }
    return render(request, "members/signup_verify.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def profile(request, member: Member):
    form = ProfileForm(_posted(request), initial=ProfileForm.initial_for(member))
    if request.method == "POST" and form.is_valid():
        try:
            member_update_profile(member=member, **form.cleaned_data)
        except ServiceError as error:
            form.add_service_error(error)
        else:
            # The preferred language is the one of messages to the member; the
            # site's language stays the one chosen with the language switch.
            messages.success(request, _("Your profile is saved."))
            return redirect("portal:profile")
    context = {"member": member, "form": form}
    return render(request, "members/profile.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def preferences(request, member: Member):
    form = PreferencesForm(
        _posted(request), member=member, initial=PreferencesForm.initial_for(member)
    )
    if request.method == "POST" and form.is_valid():
        changed = False
        had_consent = any(getattr(member, f"{c}_consent") for c in Channel.values)
        try:
            for channel in form.consent_channels:
                changed |= member_consent_set(
                    member=member,
                    channel=channel,
                    granted=form.cleaned_data[channel],
                    source=ConsentSource.PORTAL,
                    changed_by=request.user,
                )
            wanted = {
                name: form.cleaned_data[name]
                for name in ("preferred_channel", "preferred_send_hour")
                if form.cleaned_data[name] != getattr(member, name)
            }
            if wanted:
                member_update_profile(member=member, **wanted)
                changed = True
        except ServiceError as error:
            form.add_service_error(error)
        else:
            if changed:
                messages.success(request, _("Your preferences are saved."))
            else:
                messages.info(request, _("Nothing changed."))
            if had_consent and not any(
                getattr(member, f"{c}_consent") for c in Channel.values
            ):
                # Unsubscribed from every channel: the optional question.
                last = (
                    ConsentEvent.objects.filter(member=member).order_by("-pk").first()
                )
                return redirect(
                    leave_reason_path(
                        member=member,
                        trigger=LeaveTrigger.UNSUBSCRIBED,
                        key=f"consent:{last.pk if last else 0}",
                    )
                )
            return redirect("portal:preferences")
    context = {
        "member": member,
        "form": form,
        "history": member.consent_events.all()[:CONSENT_HISTORY_LIMIT],
        "telegram": telegram_block(request, member),
        "push": push_optin_context(member),
    }
    return render(request, "members/preferences.html", context)


# --- web push: the browser's subscription (static/js/push.js) -------------------------


def _json_error(field: str, detail: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"field": field, "detail": detail}, status=status)


def _json_body(request) -> dict | None:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@require_POST
@never_cache
@member_required
def push_subscribe(request, member: Member):
    """Keep this browser's push subscription: the JSON of
    PushSubscription.toJSON() (`endpoint`, `keys.p256dh`, `keys.auth`) and
    `offers` (true when the member ticked "send me offers this way too": web
    push marketing consent, kept in their consent history). CSRF-protected
    (the X-CSRFToken header)."""
    if not push_keys_configured():
        return _json_error("push", _("Notifications are not set up here."), 409)
    data = _json_body(request)
    if data is None:
        return _json_error("body", _("Send a JSON object."))
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    try:
        push_subscription_save(
            member=member,
            endpoint=str(data.get("endpoint") or ""),
            p256dh=str(keys.get("p256dh") or ""),
            auth=str(keys.get("auth") or ""),
            user_agent=request.headers.get("User-Agent", ""),
        )
        consented = False
        if data.get("offers") is True:
            consented = member_consent_set(
                member=member,
                channel=Channel.PUSH,
                granted=True,
                source=ConsentSource.PORTAL,
                changed_by=request.user,
            )
    except ServiceError as error:
        return _json_error(error.field or "body", error.message, error.status)
    return JsonResponse(
        {
            "ok": True,
            "devices": member.push_devices,
            "offers": member.push_consent,
            "consent_changed": consented,
        }
    )


@require_POST
@never_cache
@member_required
def push_unsubscribe(request, member: Member):
    """Forget this browser's subscription (`{"endpoint": ...}`). Marketing
    consent is left as it is (the preferences say it)."""
    data = _json_body(request)
    if data is None or not isinstance(data.get("endpoint"), str):
        return _json_error("endpoint", _("Send the subscription's endpoint."))
    deleted = push_subscription_delete(member=member, endpoint=data["endpoint"])
    return JsonResponse(
        {"ok": True, "deleted": deleted, "devices": member.push_devices}
    )


@require_GET
def join(request, code: str):
    """A referral link: the sign-up page with the friend's code filled in."""
    referrer = referral_get_by_code(code=code)
    if referrer is None:
        messages.warning(request, _("This invitation link is not valid."))
        return redirect("portal:signup")
    return redirect(f"{reverse('portal:signup')}?ref={referrer.referral_code}")


@require_GET
@member_required
def referrals(request, member: Member):
    link = absolute_url(reverse("portal:join", args=[member.referral_code]))
    context = {
        "member": member,
        "link": link,
        "referrals": referrals_for_member(member=member),
    }
    return render(request, "members/referrals.html", context)


@require_GET
@never_cache
@member_required
def privacy_export(request, member: Member):
    """ "Download my data": a JSON file of everything kept about the member."""
    data = member_data_export(member=member, actor=StaffActor.from_request(request))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="my-loyalty-data-{member.card_number}.json"'
    )
    return response


@require_http_methods(["GET", "POST"])
@never_cache
@member_required
def privacy_delete(request, member: Member):
    """ "Delete my account": after the password, the personal data is erased at
    once and the login disabled; points history stays, anonymous."""
    form = AccountDeleteForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            erasure = member_anonymize(
                member=member,
                actor=StaffActor.from_request(request),
                source=ErasureSource.PORTAL,
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            logout(request)
            messages.success(
                request,
                _("Your account is deleted and your personal data erased. Goodbye!"),
            )
            # The optional question, after the deletion (it never holds it up).
            return redirect(
                leave_reason_path(
                    member=member,
                    trigger=LeaveTrigger.DELETED,
                    key=f"erasure:{erasure.pk}",
                )
            )
    return render(
        request, "members/privacy_delete.html", {"member": member, "form": form}
    )


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Django's reset page, but the email leaves from a task and the requests are
    throttled (members.password_reset). Every valid form gets the same answer,
    within the limits or not, for an address with an account or without."""

    template_name = "members/password_reset.html"

    def form_valid(self, form):
        password_reset_request(
            email=form.cleaned_data["email"],
            ip=client_ip(self.request),
            language=translation.get_language(),
        )
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@require_http_methods(["GET", "POST"])
def leave_reason(request, signed: str):
    """The optional "Why are you leaving?" after a deletion, an unsubscribe from
    every channel, a cancelled membership, or from the win-back message. The
    signed link is the credential (no login); GET only shows the reasons, a
    POST (one tap on a reason) records or changes the answer."""
    occasion = leave_occasion_read(signed)
    member = Member.objects.filter(pk=occasion.member_id).first() if occasion else None
    if member is None:
        return render(
            request, "members/leave_reason.html", {"invalid": True}, status=400
        )
    reasons = leave_reasons_offered()
    form = LeaveReasonForm(_posted(request), reasons=reasons)
    done = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                leave_reason_record(
                    member=member,
                    trigger=occasion.trigger,
                    key=occasion.key,
                    reason=form.cleaned_data["reason"],
                    text=form.cleaned_data["text"],
                )
            except ServiceError as error:
                form.add_error(
                    error.field if error.field in form.fields else None, error.message
                )
                status = 400
            else:
                done = True
        else:
            status = 400
    context = {"form": form, "reasons": reasons, "done": done, "invalid": False}
    return render(request, "members/leave_reason.html", context, status=status)
