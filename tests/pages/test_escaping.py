"""Whatever a customer, a till or a staff member typed comes out escaped on every
page that shows it.

The demo data is seeded, then every free-text column of every model is set to a
piece of markup (`<u>h7</u>`, a different number per column), written straight
into the table as a till, an import or an old release could have left it. Then
a superuser opens every admin page from the URL resolver (with the ids of real
rows), the campaign preview of the hostile member, and the member opens every
page of the portal. No page may carry the markup raw, and every column must show
up escaped on at least one page, so the walk is known to reach it.

`test_every_text_column_is_classified` keeps the list honest: a new CharField or
TextField fails it until it is put in HOSTILE (typed by a person, walked here) or
in NOT_TYPED (written by the system in a fixed shape), with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, models

from campaigns.models import Campaign, OutboxEntry
from demo.data import DEMO_EMAIL
from members.models import Channel, Member, User
from members.services.branding import branding_ensure
from rewards.models import (
    AnomalyFlag,
    AnomalyRule,
    AnomalySubject,
    MembershipPlan,
    Payment,
    PaymentCallback,
)
from tests.pages.test_url_inventory import CUSTOMER, PUBLIC
from tests.url_walk import url_routes

pytestmark = pytest.mark.django_db

APPS = ("members", "rewards", "campaigns", "analytics")
LANGUAGES = ("uk", "ru", "ro", "en")


def _translated(model: str, *fields: str) -> set[str]:
    """A translated field (modeltranslation): the column of each language."""
    return {f"{model}.{f}_{lang}" for f in fields for lang in LANGUAGES}


# The base column of each translated field: modeltranslation keeps it, every
# read goes to the language columns (HOSTILE above), so it is never shown.
TRANSLATED_BASE = {
    f"{model}.{field}": "a translated field's base column, never shown"
    for model, fields in {
        "members.Partner": ("description",),
        "rewards.Reward": ("name", "description"),
        "members.Interest": ("name",),
        "rewards.Category": ("name",),
        "rewards.EarningRule": ("name",),
        "rewards.MembershipPlan": ("name", "description"),
        "rewards.StampProgram": ("name", "description"),
        "rewards.Tier": ("name", "benefits"),
        "rewards.PromoCode": ("name", "description"),
        "campaigns.CampaignVariant": ("subject", "body"),
        "campaigns.Event": ("title", "description"),
        "campaigns.ContentPage": ("title", "body"),
        "campaigns.Survey": ("question",),
        "campaigns.SurveyQuestion": ("text",),
        "campaigns.SurveyChoice": ("text",),
        "campaigns.Journey": ("subject", "body"),
        "members.LeaveReason": ("name",),
    }.items()
    for field in fields
}


# Typed by a customer (profile, complaint, survey), a till (receipt ids, SKUs,
# product names), or staff (stores, partners, rewards, campaign texts ...).
HOSTILE = {
    "members.Branding.program_name",
    "members.Branding.short_name",
    "members.User.username",
    "members.User.first_name",
    "members.User.last_name",
    "members.Partner.name",
    *_translated("members.Partner", "description"),
    "members.Store.name",
    "members.Store.address",
    "members.Member.first_name",
    "members.Member.last_name",
    # From the link of the first visit: anyone can write them.
    "members.Member.utm_source",
    "members.Member.utm_medium",
    "members.Member.utm_campaign",
    "members.ApiToken.name",
    # The interests list staff keep (codes and categories typed too).
    "members.Interest.code",
    "members.Interest.purchase_categories",
    *_translated("members.Interest", "name"),
    "members.WebhookEndpoint.description",
    *_translated("members.LeaveReason", "name"),
    "members.LeaveAnswer.text",  # a member's own words ("Other")
    # What a webhook receiver answered, and the error text of a failed call.
    "members.WebhookAttempt.response_excerpt",
    "members.WebhookAttempt.error",
    # Web push: what the browser said it is, and what a push service answered.
    "members.PushSubscription.user_agent",
    "members.PushSubscription.last_error",
    "rewards.Referral.review_note",
    "rewards.AdjustmentRequest.reason",
    "rewards.AdjustmentRequest.decision_note",
    "rewards.AnomalyFlag.note",
    *_translated("rewards.Reward", "name", "description"),
    "rewards.Category.code",
    *_translated("rewards.Category", "name"),
    "rewards.Voucher.used_receipt_id",
    *_translated("rewards.EarningRule", "name"),
    "rewards.EarningRule.category",
    "rewards.EarningRule.sku",
    "rewards.LedgerEntry.reason",
    *_translated("rewards.MembershipPlan", "name", "description"),
    "rewards.Subscription.cancel_reason",
    # What payment providers send (ids, event names, bodies, error texts).
    "rewards.Payment.provider_session_id",
    "rewards.Payment.provider_payment_id",
    "rewards.Payment.note",
    "rewards.PaymentCallback.event_key",
    "rewards.PaymentCallback.event_type",
    "rewards.PaymentCallback.detail",
    "rewards.PaymentCallback.body",
    # What Apple devices send, and the error text of a failed wallet update
    # (APNs' and Google's answers).
    "rewards.AppleDeviceRegistration.device_library_id",
    "rewards.WalletPass.last_sync_error",
    "rewards.SubscriptionEvent.receipt_id",
    "rewards.Purchase.receipt_id",
    "rewards.PurchaseLine.sku",
    "rewards.PurchaseLine.name",
    "rewards.PurchaseLine.category",
    "rewards.PurchaseReturn.receipt_id",
    "rewards.Redemption.receipt_id",
    *_translated("rewards.StampProgram", "name", "description"),
    "rewards.StampProgram.category",
    "rewards.StampProgram.sku",
    *_translated("rewards.Tier", "name", "benefits"),
    *_translated("rewards.PromoCode", "name", "description"),
    "rewards.PromoCodeBatch.label",
    "rewards.TierHistory.reason",
    "campaigns.Campaign.name",
    *_translated("campaigns.CampaignVariant", "subject", "body"),
    *_translated("campaigns.Event", "title", "description"),
    *_translated("campaigns.ContentPage", "title", "body"),
    "campaigns.Survey.name",
    *_translated("campaigns.Survey", "question"),
    "campaigns.SurveyResponse.comment",
    *_translated("campaigns.SurveyQuestion", "text"),
    *_translated("campaigns.SurveyChoice", "text"),
    "campaigns.SurveyAnswer.text",
    "campaigns.ComplaintMessage.body",
    "campaigns.Message.subject",
    "campaigns.Message.body",
    "campaigns.Message.error",
    "campaigns.Message.provider_id",
    "campaigns.Message.provider_status",  # the Viber provider's report
    "campaigns.Segment.name",
    "campaigns.Segment.description",
    "campaigns.OutboxEntry.subject",
    "campaigns.OutboxEntry.body",
    "campaigns.OutboxEntry.html",  # the email's HTML part is shown as its source
    *_translated("campaigns.Journey", "subject", "body"),
    "analytics.MarketingSpend.campaign",
    "analytics.MarketingSpend.note",
    "analytics.ItemStat.sku",
    "analytics.ItemStat.name",
    "analytics.ItemStat.category",
    "analytics.RewardCategory.category",
}

# Written by the system in a fixed shape, or validated so that no markup fits
# (phones, card numbers, codes, hashes, keys, time zones, languages).
NOT_TYPED = {
    "members.User.password": "a hash",
    "members.LeaveReason.code": "a validated slug",
    "members.LeaveAnswer.key": "the occasion, written by the program",
    "members.Branding.primary_color": "a validated #rrggbb colour",
    "members.Branding.secondary_color": "a validated #rrggbb colour",
    "members.Partner.contact_phone": "a validated phone number",
    "members.Store.code": "a short code the program generates",
    "members.Store.timezone": "an IANA zone, validated",
    "members.Member.card_number": "digits the program generates",
    "members.Member.phone": "a validated E.164 phone number",
    "members.Member.referral_code": "generated",
    "members.Member.device_id": "a UUID the browser sends, validated",
    "members.Member.search_text": "search index, never shown",
    "members.Member.timezone": "an IANA zone, validated",
    "members.Member.telegram_chat_id": "a chat id Telegram's Bot API gives",
    "members.PushSubscription.p256dh": "a key, validated as base64url",
    "members.PushSubscription.auth": "a key, validated as base64url",
    "members.OneTimeCode.destination": "a validated phone or email",
    "members.OneTimeCode.code_hash": "a hash",
    "members.ApiToken.key_hash": "a hash",
    "members.ApiToken.prefix": "generated",
    "members.WebhookEndpoint.secret": "generated",
    "rewards.Referral.referee_phone": "a validated phone number",
    "rewards.AdjustmentRequest.idempotency_key": "generated",
    "members.StaffAuditEvent.object_type": "a model label",
    "members.StaffAuditEvent.object_id": "a primary key",
    "rewards.Reward.image_url": "a validated URL",
    "rewards.Voucher.code": "generated",
    "rewards.Voucher.idempotency_key": "a till's retry key, never shown",
    "rewards.Voucher.fingerprint": "a hash",
    "rewards.EarningRule.weekdays": "validated digits",
    "rewards.LedgerEntry.idempotency_key": "a till's retry key, never shown",
    "rewards.LedgerEntry.reason_code": "a code of rewards.reasons",
    "rewards.TierHistory.reason_code": "a code of rewards.reasons",
    "rewards.AdjustmentRequest.reason_code": "a code of rewards.reasons",
    "rewards.StampEntry.reason_code": "a code of rewards.reasons",
    "rewards.StampEntry.reason": (
        "only the system writes it (rewards.reasons_stamps); shown from its code"
    ),
    "rewards.Subscription.reason_code": "a code of rewards.reasons",
    "rewards.SubscriptionEvent.fingerprint": "a hash",
    "rewards.Payment.order_id": "generated",
    "rewards.Payment.provider_token": "a provider's card token, never shown",
    "rewards.Payment.currency": "an ISO 4217 code",
    "rewards.WalletPass.serial_number": "generated",
    "rewards.WalletPass.auth_token": "generated, never shown",
    "rewards.AppleDeviceRegistration.push_token": "a device's push token, never shown",
    "rewards.WalletPass.google_object_id": "the issuer id setting and the serial",
    "rewards.ProgramSettings.currency": "an ISO 4217 code",
    "rewards.ProgramSettings.config_version": "generated",
    "rewards.Purchase.fingerprint": "a hash",
    "rewards.PurchaseReturn.fingerprint": "a hash",
    "rewards.Redemption.fingerprint": "a hash",
    "rewards.PromoCodeKey.code": "generated, or validated letters and digits",
    "rewards.PromoCodeUse.idempotency_key": "a form's retry key, never shown",
    "campaigns.CampaignRun.key": "generated",
    "campaigns.ContentPage.slug": "a validated slug",
    "campaigns.Message.key": "generated",
    "campaigns.Message.kind": "a code",
    "campaigns.Message.to": "the member's validated phone or email",
    "campaigns.Message.language": "a language code",
    "campaigns.Message.token": "generated",
    "campaigns.Message.claim": "generated",
    "campaigns.OutboxEntry.to": "the member's validated phone or email",
    "campaigns.OutboxEntry.from_address": "a setting",
    "campaigns.OutboxEntry.reference": "generated",
    "analytics.DailyVoucherSnapshot.source": "a code",
    "analytics.CoPurchase.item_a": "a pair of SKUs the recommender counts; never "
    "shown (what is shown of an item comes from ItemStat)",
    "analytics.CoPurchase.item_b": "as item_a",
    **TRANSLATED_BASE,
}


def _text_columns() -> set[str]:
    found = set()
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            for f in model._meta.concrete_fields:
                if (
                    isinstance(f, models.CharField | models.TextField)
                    and not f.choices
                    and not isinstance(f, models.EmailField | models.URLField)
                ):
                    found.add(f"{app}.{model.__name__}.{f.name}")
    return found


def test_every_text_column_is_classified():
    columns = _text_columns()
    assert sorted(columns - HOSTILE - set(NOT_TYPED)) == []
    assert sorted((HOSTILE | set(NOT_TYPED)) - columns) == [], "gone from the models"


def _marker(index: int) -> str:
    return f"<u>h{index}</u>"


def _escaped(index: int) -> str:
    return f"&lt;u&gt;h{index}&lt;"


def _promo_codes_seed(member: Member) -> None:
    """A promo code, a batch of codes and a use of our own, beside the demo's."""
    from rewards.models import PromoCode, PromoCodeMode
    from rewards.services.promocode_batches import promo_batch_generate
    from rewards.services.promocode_online import promo_code_redeem_online
    from rewards.tests.factories import PromoCodeFactory

    PromoCodeFactory(code="WALK", name="Walk", description="d")
    promo_code_redeem_online(member=member, code="WALK", idempotency_key="walk")
    batch_promo = PromoCodeFactory(mode=PromoCodeMode.BATCH, description="d")
    promo_batch_generate(promo=batch_promo, size=2, label="Walk batch")
    assert PromoCode.objects.filter(pk=batch_promo.pk, keys__isnull=False).exists()


def _poison() -> dict[int, str]:
    """Write a marker into every HOSTILE column of every row; {index: column}."""
    names = {}
    with connection.cursor() as cursor:
        for index, column in enumerate(sorted(HOSTILE)):
            app, model_name, field_name = column.split(".")
            model = apps.get_model(app, model_name)
            field = model._meta.get_field(field_name)
            table, col, pk = (
                connection.ops.quote_name(name)
                for name in (model._meta.db_table, field.column, model._meta.pk.column)
            )
            # One value per row (the pk appended), so unique columns stay so.
            text_pk = f"CAST({pk} AS TEXT)"
            sql = f"UPDATE {table} SET {col} = %s || {text_pk}"  # noqa: S608 (names quoted)
            value = _marker(index)
            cursor.execute(sql, [value])
            names[index] = column
    return names


_PLACEHOLDER = "999999"


def _first_pk(model) -> str:
    row = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    return str(row) if row is not None else _PLACEHOLDER


def _admin_paths(member: Member) -> list[str]:
    """Every admin page, its ids replaced with rows of the seeded data."""
    from campaigns.models import Event

    paths = []
    for route, name, _pattern in url_routes():
        if not route.startswith("admin/") or not name or "(?P<url>" in route:
            continue
        path = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", r"\1", route)
        path = path.replace("^", "").replace("$", "").replace("\\", "")
        model_match = re.match(r"admin/(\w+)/(\w+)/", path)
        model = None
        if model_match:
            try:
                model = apps.get_model(model_match.group(1), model_match.group(2))
            except LookupError:
                model = None

        def value(match, model=model):
            converter = match.group(0)
            if "member_id" in converter:
                return str(member.pk)
            if "event_id" in converter:
                return _first_pk(Event)
            if "object_id" in converter or converter == "<id>":
                if model is Member:
                    return str(member.pk)
                return _first_pk(model) if model is not None else _PLACEHOLDER
            return _PLACEHOLDER

        paths.append("/" + re.sub(r"<[^>]+>", value, path))
    return paths


def _customer_paths(member: Member) -> list[str]:
    from campaigns.models import Complaint, ContentPage, Event
    from rewards.models import Voucher

    voucher = Voucher.objects.filter(member=member).order_by("pk").first()
    complaint = Complaint.objects.filter(member=member).order_by("pk").first()
    page = ContentPage.objects.order_by("pk").first()
    values = {
        "code": voucher.code if voucher else _PLACEHOLDER,
        "complaint_id": str(complaint.pk) if complaint else _PLACEHOLDER,
        "event_id": _first_pk(Event),
        "slug": page.slug if page else "none",
    }
    paths = []
    for route, name, _pattern in url_routes():
        if name not in CUSTOMER and name not in PUBLIC:
            continue
        if name.startswith("api-v1:"):
            continue
        path = re.sub(
            r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), _PLACEHOLDER), route
        )
        paths.append("/" + path)
    return paths


def _html(response) -> str:
    if "text/html" not in response.headers.get("Content-Type", ""):
        return ""
    return response.content.decode()


def _webhook_log_create(member) -> None:
    """An endpoint and an attempt that failed (none in the demo): what a
    receiver answered is shown in the delivery log."""
    from members.models import (
        WebhookAttempt,
        WebhookDelivery,
        WebhookEndpoint,
        WebhookEvent,
    )

    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    endpoint = WebhookEndpoint.objects.create(
        url="https://crm.example.com/",
        description="d",
        secret="whsec_x",  # noqa: S106 - not a real one
    )
    event = WebhookEvent.objects.create(
        type="points.earned", member=member, sequence=1, created_at=now
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        member_id=member.pk,
        sequence=1,
        give_up_at=now,
        created_at=now,
    )
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, started_at=now, response_excerpt="r", error="e"
    )


def test_markup_typed_anywhere_comes_out_escaped_on_every_page(client, staff_groups):
    # The one-row settings a migration creates: a transactional test before this
    # one on the same worker may have emptied them (PostgreSQL runs those).
    branding_ensure()
    call_command("seed_demo", members=30, months=3, stdout=StringIO())
    member = Member.objects.get(email=DEMO_EMAIL)
    # What the demo has none of: a flag for review, a kept copy of an email.
    AnomalyFlag.objects.create(
        subject_kind=AnomalySubject.MEMBER,
        member=member,
        rule=AnomalyRule.values[0],
        day=dt.date(2026, 1, 1),
    )
    OutboxEntry.objects.create(
        channel=Channel.EMAIL, to=member.email, subject="s", body="b"
    )
    _promo_codes_seed(member)
    _webhook_log_create(member)
    # A leaving answer in the member's own words, whatever the demo's draw gave.
    from members.services import leave_reason_record, leave_reasons_ensure

    leave_reasons_ensure()
    leave_reason_record(
        member=member, trigger="win_back", reason="other", text="t", key="walk"
    )
    # An online payment and a provider's callback about it.
    payment = Payment.objects.create(
        order_id="m1-walk",
        member=member,
        plan=MembershipPlan.objects.order_by("pk").first()
        or MembershipPlan.objects.create(name="Walk", price=1),
        provider="test",
        amount=1,
        currency="UAH",
        provider_session_id="cs",
        provider_payment_id="pi",
        note="n",
    )
    PaymentCallback.objects.create(
        provider="test",
        event_key="e",
        event_type="t",
        payment=payment,
        outcome="applied",
        detail="d",
        body="{}",
    )
    # A wallet pass, a device registered for it, a failed update's error.
    from rewards.models import WalletPass
    from rewards.wallet.services import apple_device_register, wallet_pass_ensure

    wallet_pass = wallet_pass_ensure(member=member)
    apple_device_register(
        wallet_pass=wallet_pass,
        device_library_id="d",
        push_token="p",  # noqa: S106
    )
    WalletPass.objects.filter(pk=wallet_pass.pk).update(last_sync_error="e")
    # A browser the member turned notifications on in.
    from members.services import push_subscription_save
    from members.tests.push_service import FakeBrowser

    browser = FakeBrowser(endpoint="https://push.example/walk")
    push_subscription_save(
        member=member,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        user_agent="u",
    )
    names = _poison()
    # Written past the models: what was cached from the rows (the branding) goes.
    cache.clear()
    member.refresh_from_db()
    # The preview renders a text with the member's own (hostile) name in it.
    campaign = Campaign.objects.filter(variants__label="A").order_by("pk").first()
    variant = campaign.variants.get(label="A")
    for language in LANGUAGES:
        body = getattr(variant, f"body_{language}")
        setattr(variant, f"body_{language}", body + " {{ first_name }}")
    variant.save()

    raw, errors, seen = [], [], set()

    def visit(path: str) -> None:
        response = client.get(path)
        if response.status_code >= 500:
            errors.append((path, response.status_code))
            return
        body = _html(response)
        if "<u>h" in body:
            at = body.index("<u>h")
            raw.append((path, body[max(0, at - 80) : at + 20]))
        for index in names:
            if index not in seen and _escaped(index) in body:
                seen.add(index)

    admin_user = User.objects.create_superuser("walker", "walker@example.com", "x")
    client.force_login(admin_user)
    for path in _admin_paths(member):
        visit(path)
    # Pages that show a member only when asked for one.
    visit(
        f"/admin/campaigns/campaign/{campaign.pk}/preview/"
        f"?member={member.card_number}&variant=A"
    )
    visit(f"/admin/members/member/?q={member.card_number}")

    client.force_login(member.user)
    for path in _customer_paths(member):
        visit(path)

    assert errors == []
    assert raw == [], "\n".join(map(str, raw))
    unseen = sorted(names[i] for i in set(names) - seen)
    assert unseen == [], unseen
