"""Member 360: who may open it, the audit row, the timeline, bounded queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.models import MemberRFM
from analytics.selectors import member360
from analytics.selectors.member360 import TimelineItem, member_timeline
from analytics.services.recommend import copurchase_refresh
from analytics.services.rfm import rfm_refresh
from campaigns.messaging.services import message_send
from members.formatting import money_format
from members.models import AuditAction, StaffAuditEvent
from rewards.services import (
    points_adjust,
    purchase_record,
    purchase_return_record,
    reward_redeem,
)
from rewards.tests.factories import PromoCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db


def _url(member) -> str:
    return reverse("admin:member360", args=[member.pk])


def purchase_history_make(member, store, manager, n: int) -> None:
    skus = ["COF", "CAKE", "TEA", "JAM"]
    purchases = [
        purchase_record(
            store=store,
            member=member,
            receipt_id=f"m360-{n}-{i}",
            lines=[
                {
                    "sku": skus[i % 4],
                    "quantity": 1,
                    "unit_price": "150.00",
                    "category": "food",
                    "name": skus[i % 4],
                },
                {
                    "sku": skus[(i + 1) % 4],
                    "quantity": 1,
                    "unit_price": "50.00",
                    "category": "food",
                    "name": skus[(i + 1) % 4],
                },
            ],
        )[0]
        for i in range(n)
    ]
    copurchase_refresh()
    purchase_return_record(
        purchase=purchases[0], store=store, receipt_id=f"m360-ret-{n}", amount="50.00"
    )
    points_adjust(member=member, points=25, reason="Goodwill", created_by=manager)
    reward_redeem(
        member=member,
        reward=RewardFactory(name="Free coffee", points_cost=100),
        idempotency_key=f"m360-redeem-{n}",
    )
    message_send(
        member=member, key=f"test:{n}", kind="test", subject="Hello", body="Hi there"
    )


@pytest.mark.parametrize("who", ["cashier", "manager"])
def test_cashier_and_manager_open_the_page_and_it_is_audited(
    client, member, who, request
):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(_url(member))
    assert response.status_code == 200
    event = StaffAuditEvent.objects.get(action=AuditAction.MEMBER_VIEWED)
    assert event.actor == user
    assert event.member_id == member.pk
    assert event.details == {"page": "member360"}


def test_customer_is_sent_to_the_staff_login(client, customer, member):
    user, _own = customer
    client.force_login(user)
    response = client.get(_url(member))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    assert not StaffAuditEvent.objects.exists()


def test_marketer_may_not_open_a_members_timeline(client, marketer, member):
    client.force_login(marketer)
    assert client.get(_url(member)).status_code == 403
    assert not StaffAuditEvent.objects.exists()


def test_unknown_member_is_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("admin:member360", args=[999999])).status_code == 404


def test_timeline_shows_every_kind_newest_first(client, manager, member, store):
    purchase_history_make(member, store, manager, 3)
    rfm_refresh()
    client.force_login(manager)
    response = client.get(_url(member))
    page = response.content.decode()
    kinds = [item.kind for item in response.context["timeline"].items]
    assert set(kinds) == {"purchase", "return", "points", "voucher", "message"}
    times = [item.at for item in response.context["timeline"].items]
    assert times == sorted(times, reverse=True)
    rfm = MemberRFM.objects.get(member=member)
    assert rfm.get_segment_display() in page
    assert money_format(rfm.predicted_value, "UAH") in page
    assert 'id="m360-churn"' in page
    # the earn and clawback entries show on their purchase and return only
    assert kinds.count("points") == 2  # the adjustment and the redemption


def test_query_count_does_not_grow_with_the_history(
    client, manager, member, store, django_assert_max_num_queries
):
    purchase_history_make(member, store, manager, 2)
    client.force_login(manager)
    client.get(_url(member))  # warm the session and the settings caches
    # 30 before the five campaigns sources (one query each) joined the timeline
    with django_assert_max_num_queries(35) as small:
        client.get(_url(member))
    purchase_history_make(member, store, manager, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(_url(member))
    assert len(response.context["timeline"].items) == 25
    assert response.context["recommendations"]


def test_pages_go_back_in_time(member, store):
    for i in range(30):
        purchase_record(store=store, member=member, receipt_id=f"p{i}", total="10.00")
    first = member_timeline(member, page=1)
    second = member_timeline(member, page=2)
    assert first.has_next and not first.has_previous
    assert not second.has_next and second.has_previous
    assert len(first.items) == 25
    assert len(second.items) == 30 - 25
    assert first.items[-1].at >= second.items[0].at


def test_a_registered_source_joins_the_timeline(client, manager, member, monkeypatch):
    from django.utils import timezone

    def complaints(member, limit):
        return [
            TimelineItem(
                at=timezone.now(), kind="complaint", label="Complaint", title="Cold tea"
            )
        ][:limit]

    monkeypatch.setattr(member360, "TIMELINE_SOURCES", list(member360.TIMELINE_SOURCES))
    member360.timeline_source_register(complaints)
    member360.timeline_source_register(complaints)  # once only
    assert member360.TIMELINE_SOURCES.count(complaints) == 1
    client.force_login(manager)
    page = client.get(_url(member)).content.decode()
    assert "Cold tea" in page


def test_member_change_page_links_to_member_360(client, manager, member):
    client.force_login(manager)
    page = client.get(
        reverse("admin:members_member_change", args=[member.pk])
    ).content.decode()
    assert _url(member) in page


def test_marketer_sees_no_link(client, marketer, member):
    client.force_login(marketer)
    page = client.get(
        reverse("admin:members_member_change", args=[member.pk])
    ).content.decode()
    assert _url(member) not in page


def test_a_message_still_sending_shows_as_sending(member):
    from campaigns.models import Message

    message = message_send(
        member=member, key="offer:1", kind="campaign", subject="Offer", body="Hi"
    )
    Message.objects.filter(pk=message.pk).update(status="sending", claim="c")

    [item] = [i for i in member_timeline(member, page=1).items if i.kind == "message"]
    assert item.detail == "campaign · Sending"


def test_a_promo_codes_bonus_and_its_reversal_both_show(member, store):
    """The timeline's points add up to the balance: a promo code's bonus is
    its own line, and so is its reversal by the return of the whole purchase
    (the return's own line counts only the purchase's earned points)."""
    PromoCodeFactory(code="BACK10", points=10)
    purchase, _ = purchase_record(
        store=store,
        member=member,
        receipt_id="m360-p",
        total="100.00",
        promo_code="BACK10",
    )
    purchase_return_record(
        purchase=purchase, store=store, receipt_id="m360-r", amount="100.00"
    )
    items = member_timeline(member=member).items
    member.account.refresh_from_db()
    assert sum(item.points or 0 for item in items) == member.account.balance == 0
    assert [i.points for i in items if i.kind == "points"] == [-10, 10]


def test_member360_shows_where_the_member_came_from(client, manager, store):
    """Source, store, UTM values, the first visit and a link to the friend
    who referred them; staff who may correct it get the form's link."""
    import datetime as dt

    from django.utils import timezone

    from members.services import FirstTouch, member_enroll
    from members.tests.factories import MemberFactory

    friend = MemberFactory(store=store, first_name="Iryna", last_name="Friend")
    seen = timezone.now() - dt.timedelta(days=4)
    member = member_enroll(
        phone="+380672240001",
        store=store,
        referral_code=friend.referral_code,
        first_touch=FirstTouch(
            utm_source="instagram",
            utm_medium="social",
            utm_campaign="spring-<b>coffee</b>",
            first_seen_at=seen,
        ),
    )
    client.force_login(manager)
    response = client.get(_url(member))
    assert response.status_code == 200
    html = response.content.decode()
    block = html[html.index('id="member360-source"') :]
    block = block[: block.index("</div>\n\n")]
    assert "Referral by a member" in block
    assert store.name in block
    assert "instagram" in block and "social" in block
    assert "spring-&lt;b&gt;coffee&lt;/b&gt;" in block  # typed data, escaped
    assert f'href="{_url(friend)}"' in block and "Iryna Friend" in block
    assert 'id="m360-first-seen">—' not in block
    assert reverse("admin:members_member_source", args=[member.pk]) in block
