"""Admin pages of campaigns: list, search, add, change, preview, test send,
send now, schedule, cancel, figures, progress; Marketers and Managers only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, CampaignVariant, Message
from campaigns.tests.factories import campaign_make, members_bulk, segment_all
from members.models import AuditAction, StaffAuditEvent

pytestmark = pytest.mark.django_db

# measured: 12 before and after revenue became net of returns; 13 since money is
# written in the program's currency (read once a request, members.formatting)
QUERIES_FIGURES = 13


def _url(view: str, *args) -> str:
    return reverse(f"admin:campaigns_campaign_{view}", args=args)


@pytest.fixture
def mk_client(client, marketer):
    marketer.email = "marketer@example.com"
    marketer.save()
    client.force_login(marketer)
    return client


def campaign_form_data(segment, **extra) -> dict:
    data = {
        "name": "Autumn",
        "segment": str(segment.pk),
        "channel": "email",
        "scheduled_at_0": "",
        "scheduled_at_1": "",
        "recurrence": "",
        "variant_b_percent": "0",
        "holdout_percent": "10",
        "window_days": "7",
        "promotion": "",
        "bonus_points": "0",
        "coupon_reward": "",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "2",
        "variants-0-label": "A",
        "variants-0-subject_en": "Hello",
        "variants-0-body_en": "Hi {{ first_name }}, {{ balance }} points",
    }
    for lang in ("uk", "ru", "ro"):
        data[f"variants-0-subject_{lang}"] = ""
        data[f"variants-0-body_{lang}"] = ""
    data.update(extra)
    return data


def test_changelist_lists_campaigns_with_progress_in_few_queries(
    mk_client, django_assert_max_num_queries
):
    for i in range(5):
        campaign_make(name=f"C{i}")
    with django_assert_max_num_queries(12):
        response = mk_client.get(_url("changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 5


def test_changelist_search_finds_by_name(mk_client):
    campaign_make(name="Spring sale")
    campaign_make(name="Winter")
    response = mk_client.get(_url("changelist"), {"q": "spring"})
    assert [c.name for c in response.context["cl"].result_list] == ["Spring sale"]


def test_add_saves_campaign_with_author_and_variant(mk_client, marketer):
    segment = segment_all()
    response = mk_client.post(_url("add"), campaign_form_data(segment))
    assert response.status_code == 302, (
        response.context["errors"] if response.context else ""
    )
    campaign = Campaign.objects.get(name="Autumn")
    assert campaign.created_by == marketer
    assert campaign.status == CampaignStatus.DRAFT
    assert CampaignVariant.objects.get(campaign=campaign).body_en.startswith("Hi")


def test_add_warns_about_unknown_variables(mk_client):
    segment = segment_all()
    response = mk_client.post(
        _url("add"),
        campaign_form_data(segment, **{"variants-0-body_en": "Hi {{ nickname }}"}),
        follow=True,
    )
    assert "nickname" in response.content.decode()
    assert Campaign.objects.filter(name="Autumn").exists()


def test_add_refuses_attribute_access_and_forbidden_tags(mk_client):
    segment = segment_all()
    response = mk_client.post(
        _url("add"),
        campaign_form_data(
            segment,
            **{"variants-0-body_en": "{{ first_name.upper }} {% load static %}"},
        ),
    )
    assert response.status_code == 200
    assert not Campaign.objects.exists()
    assert (
        "only plain variables" in response.content.decode()
        or "load" in response.content.decode()
    )


def test_change_page_shows_the_campaign_and_its_buttons(mk_client):
    campaign = campaign_make()
    response = mk_client.get(_url("change", campaign.pk))
    assert response.status_code == 200
    assert b'data-testid="send-now"' in response.content
    page = response.content.decode()
    # The help lists the variables and the filters (escaped, so shown as typed).
    assert "{{ first_name }}" in page
    assert "{{ balance|points }}" in page
    assert "{{ balance|plural:&quot;point,points&quot; }}" in page


def test_send_now_sends_and_progress_shows_counts(
    mk_client, django_capture_on_commit_callbacks
):
    members_bulk(3)
    campaign = campaign_make()
    with django_capture_on_commit_callbacks(execute=True):
        response = mk_client.post(_url("send_now", campaign.pk))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    progress = mk_client.get(_url("progress", campaign.pk)).json()
    assert (progress["sent"], progress["recipients"], progress["percent"]) == (
        3,
        3,
        100,
    )
    page = mk_client.get(_url("change", campaign.pk))
    assert b"campaign-progress" in page.content
    # A sent campaign cannot be edited any more.
    assert b'data-testid="send-now"' not in page.content


def test_progress_shows_messages_still_sending(
    mk_client, django_capture_on_commit_callbacks
):
    members_bulk(3)
    campaign = campaign_make()
    with django_capture_on_commit_callbacks(execute=True):
        mk_client.post(_url("send_now", campaign.pk))
    # What a worker killed while handing its batch over leaves behind.
    first = Message.objects.filter(campaign=campaign).order_by("pk").first()
    Message.objects.filter(pk=first.pk).update(status="sending", claim="c")

    progress = mk_client.get(_url("progress", campaign.pk)).json()
    assert (progress["sending"], progress["sent"], progress["queued"]) == (1, 2, 0)
    page = mk_client.get(_url("change", campaign.pk)).content.decode()
    assert '<th>Sending</th><td data-field="sending">1</td>' in page
    figures = mk_client.get(_url("figures", campaign.pk)).context["figures"]
    # Counted as sent only once its backend has taken it.
    assert (figures.recipients.sent, figures.recipients.failed) == (2, 0)


def test_schedule_and_cancel(mk_client):
    campaign = campaign_make(scheduled_at=timezone.now() + dt.timedelta(days=1))
    mk_client.post(_url("schedule", campaign.pk))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    mk_client.post(_url("cancel", campaign.pk))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_send_schedule_and_cancel_write_the_staff_audit_row(mk_client, marketer):
    members_bulk(1)
    sent = campaign_make()
    mk_client.post(_url("send_now", sent.pk), REMOTE_ADDR="10.0.0.7")
    planned = campaign_make(scheduled_at=timezone.now() + dt.timedelta(days=1))
    mk_client.post(_url("schedule", planned.pk))
    mk_client.post(_url("cancel", planned.pk))
    rows = StaffAuditEvent.objects.filter(object_type="campaigns.campaign")
    assert list(rows.order_by("pk").values_list("action", "object_id")) == [
        (AuditAction.CAMPAIGN_SENT, str(sent.pk)),
        (AuditAction.CAMPAIGN_SCHEDULED, str(planned.pk)),
        (AuditAction.CAMPAIGN_CANCELLED, str(planned.pk)),
    ]
    first = rows.order_by("pk").first()
    assert (first.actor, first.ip) == (marketer, "10.0.0.7")
    assert first.details == {"run": sent.runs.get().pk}


def test_a_refused_send_writes_no_audit_row(mk_client):
    campaign = campaign_make(body_a="")
    mk_client.post(_url("send_now", campaign.pk))
    assert not StaffAuditEvent.objects.filter(action=AuditAction.CAMPAIGN_SENT)


def test_send_now_of_a_campaign_without_text_shows_why(mk_client):
    campaign = campaign_make(body_a="")
    response = mk_client.post(_url("send_now", campaign.pk), follow=True)
    assert "Write the text of variant A" in response.content.decode()


def test_preview_renders_with_a_real_members_data_and_test_sends_to_me(
    mk_client, django_capture_on_commit_callbacks
):
    member = members_bulk(1)[0]
    campaign = campaign_make()
    response = mk_client.get(
        _url("preview", campaign.pk), {"member": member.card_number, "variant": "A"}
    )
    assert response.status_code == 200
    assert f"Hi {member.first_name}, you have 0 points." in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = mk_client.post(
            _url("preview", campaign.pk), {"member": member.card_number, "variant": "A"}
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["marketer@example.com"]]
    assert mail.outbox[0].subject == "[Test] Hello A"
    assert Message.objects.get(kind="campaign-test").member == member


def test_preview_names_an_unknown_member(mk_client):
    campaign = campaign_make()
    response = mk_client.get(
        _url("preview", campaign.pk), {"member": "+380991112233", "variant": "A"}
    )
    assert "No member with this phone or card number." in response.content.decode()


def test_figures_page_shows_table_and_chart(
    mk_client, django_capture_on_commit_callbacks
):
    members_bulk(4)
    campaign = campaign_make(holdout_percent=25)
    with django_capture_on_commit_callbacks(execute=True):
        mk_client.post(_url("send_now", campaign.pk))
    response = mk_client.get(_url("figures", campaign.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="figures"' in body
    assert 'id="campaign-chart-data"' in body


def test_cashier_cannot_open_campaigns(client, cashier):
    client.force_login(cashier)
    assert client.get(_url("changelist")).status_code == 403


def test_manager_can_open_campaigns(client, manager):
    client.force_login(manager)
    assert client.get(_url("changelist")).status_code == 200


def test_figures_page_says_revenue_is_net_of_returns_in_few_queries(
    mk_client, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    members_bulk(4)
    campaign = campaign_make(holdout_percent=25)
    with django_capture_on_commit_callbacks(execute=True):
        mk_client.post(_url("send_now", campaign.pk))
    with django_assert_max_num_queries(QUERIES_FIGURES):
        response = mk_client.get(_url("figures", campaign.pk))
    body = response.content.decode()
    assert "Revenue, net of returns" in body
    assert "Net revenue per member" in body
    assert "Revenue is net of returns" in body


def test_figures_page_writes_money_counts_and_shares_in_the_locale(
    mk_client, django_capture_on_commit_callbacks, store, settings
):
    from members.tests.factories import MemberFactory
    from rewards.services import purchase_record

    settings.LANGUAGE_CODE = "en"
    buyer = MemberFactory(store=store, email="buyer@example.com", email_consent=True)
    campaign = campaign_make()
    with django_capture_on_commit_callbacks(execute=True):
        mk_client.post(_url("send_now", campaign.pk))
    purchase_record(store=store, member=buyer, receipt_id="BIG-1", total="123456.78")
    page = mk_client.get(_url("figures", campaign.pk)).content.decode()
    body = page[page.index('data-testid="figures"') :]  # the chart's data is JSON
    assert "123,456.78\u00a0UAH" in body  # revenue, and revenue per member
    assert "123456.78" not in body
    assert "100%" in body  # the one recipient bought
