"""Customer pages of the rewards catalog and vouchers."""

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory, UserFactory
from rewards.models import Voucher
from rewards.selectors.ledger import member_balance_get
from rewards.services import points_adjust, reward_redeem, voucher_consume
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

CATALOG = reverse("catalog:catalog")
REDEEM = reverse("catalog:redeem")
VOUCHERS = reverse("catalog:vouchers")


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    points_adjust(member=member, points=200, reason="start", created_by=None)
    client.force_login(user)
    return client, member


@pytest.fixture
def coffee():
    return RewardFactory(name="Free coffee", points_cost=150, stock=5)


def _redeem(client, reward, key="key-1"):
    return client.post(REDEEM, {"reward": reward.pk, "idempotency_key": key})


def test_catalog_highlights_what_the_member_can_afford(logged_in, coffee):
    client, _member = logged_in
    workshop = RewardFactory(name="Barista workshop", points_cost=900)
    RewardFactory(name="Hidden", is_active=False)
    RewardFactory(name="Gone", stock=0)

    response = client.get(CATALOG)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Free coffee" in html and "Barista workshop" in html
    assert "Hidden" not in html and "Gone" not in html
    assert f'data-testid="reward-{coffee.pk}"' in html
    rewards = {row["reward"].name: row for row in response.context["rewards"]}
    assert rewards["Free coffee"]["affordable"] is True
    assert rewards["Barista workshop"]["affordable"] is False
    assert "700 more points needed" in html
    assert f'action="{REDEEM}"' in html
    assert workshop.pk not in [
        row["form"]["reward"].value() for row in response.context["rewards"][:1]
    ]


def test_redeem_issues_a_voucher_and_shows_it(logged_in, coffee):
    client, member = logged_in

    response = _redeem(client, coffee)

    voucher = Voucher.objects.get(member=member)
    assert response.status_code == 302
    assert response.url == reverse("catalog:voucher", args=[voucher.code])
    assert member_balance_get(member_id=member.pk) == 50
    page = client.get(response.url)
    assert "You redeemed “Free coffee”. Show this voucher at the till." in [
        str(m) for m in page.context["messages"]
    ]


def test_double_submit_of_one_form_redeems_once(logged_in, coffee):
    client, member = logged_in
    first = _redeem(client, coffee, "same")
    second = _redeem(client, coffee, "same")
    assert first.url == second.url
    assert Voucher.objects.filter(member=member).count() == 1
    assert member_balance_get(member_id=member.pk) == 50


def test_redeem_without_enough_points_says_so(logged_in):
    client, member = logged_in
    reward = RewardFactory(name="Tote bag", points_cost=500)
    response = _redeem(client, reward)
    assert response.url == CATALOG
    page = client.get(CATALOG)
    assert [str(m) for m in page.context["messages"]] == [
        "Not enough points for “Tote bag”: it costs 500, the balance is 200."
    ]
    assert not Voucher.objects.exists()


def test_redeem_needs_post_and_a_login(client, coffee):
    assert client.get(REDEEM).status_code in (302, 405)
    response = client.post(REDEEM, {"reward": coffee.pk, "idempotency_key": "k"})
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not Voucher.objects.exists()


def test_voucher_page_shows_the_qr_code_and_expiry(logged_in, coffee):
    client, member = logged_in
    voucher, _ = reward_redeem(member=member, reward=coffee, idempotency_key="k")

    response = client.get(reverse("catalog:voucher", args=[voucher.code.lower()]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'class="voucher-qr"' in html
    assert f"QR code of voucher {voucher.code}" in html
    assert voucher.code in html
    assert "Valid until" in html


def test_used_voucher_page_says_so_without_a_qr(logged_in, coffee, store):
    client, member = logged_in
    voucher, _ = reward_redeem(member=member, reward=coffee, idempotency_key="k")
    voucher_consume(code=voucher.code, store=store, receipt_id="R-9")
    html = client.get(voucher.get_absolute_url()).content.decode()
    assert "<svg" not in html
    assert "was already used on" in html and "(receipt R-9)" in html


def test_other_members_voucher_is_404(logged_in, coffee, store):
    client, _member = logged_in
    other = MemberFactory(store=store, user=UserFactory(username="o@example.com"))
    points_adjust(member=other, points=200, reason="start", created_by=None)
    theirs, _ = reward_redeem(member=other, reward=coffee, idempotency_key="theirs")

    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(reverse("catalog:voucher", args=["nonsense"])).status_code == 404
    assert theirs.code not in client.get(VOUCHERS).content.decode()


def test_my_vouchers_lists_mine_with_their_state(logged_in, store):
    client, member = logged_in
    points_adjust(member=member, points=1000, reason="more", created_by=None)
    a, _ = reward_redeem(
        member=member, reward=RewardFactory(name="Croissant"), idempotency_key="a"
    )
    b, _ = reward_redeem(
        member=member, reward=RewardFactory(name="Latte"), idempotency_key="b"
    )
    voucher_consume(code=b.code, store=store, receipt_id="R")

    html = client.get(VOUCHERS).content.decode()

    assert a.code in html and b.code in html
    assert "Croissant" in html and "Latte" in html
    assert "Used" in html and "Valid until" in html


def test_my_vouchers_query_count_does_not_grow(
    logged_in, store, django_assert_max_num_queries
):
    client, member = logged_in
    points_adjust(member=member, points=5000, reason="more", created_by=None)
    reward = RewardFactory(points_cost=100)
    reward_redeem(member=member, reward=reward, idempotency_key="first")
    with django_assert_max_num_queries(12) as few:
        client.get(VOUCHERS)
    for i in range(15):
        v, _ = reward_redeem(
            member=member,
            reward=RewardFactory(points_cost=100),
            idempotency_key=f"k{i}",
        )
        if i % 3 == 0:
            voucher_consume(code=v.code, store=store, receipt_id=f"R{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(VOUCHERS)
    assert len(response.context["vouchers"]) == 16


def test_catalog_query_count_does_not_grow(logged_in, django_assert_max_num_queries):
    client, _member = logged_in
    RewardFactory()
    with django_assert_max_num_queries(12) as few:
        client.get(CATALOG)
    RewardFactory.create_batch(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(CATALOG)


def test_navbar_links_to_rewards_and_vouchers(logged_in):
    client, _member = logged_in
    html = client.get(VOUCHERS).content.decode()
    assert f'href="{CATALOG}"' in html and f'href="{VOUCHERS}"' in html
