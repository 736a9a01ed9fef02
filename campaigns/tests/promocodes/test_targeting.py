"""A promo code limited to segments: rewards asks campaigns through its
extension point; the admin links a code to its campaign and segments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import PromoCodeTargeting
from campaigns.segments.services import segment_static_create
from members.errors import InvalidInput
from members.tests.factories import MemberFactory
from rewards.services.promocodes import ELIGIBILITY_CHECKS, promo_code_validate
from rewards.tests.factories import PromoCodeFactory

pytestmark = pytest.mark.django_db


def test_campaigns_registers_the_segment_check():
    from campaigns.promocodes.services import promo_code_segment_check

    assert promo_code_segment_check in ELIGIBILITY_CHECKS


def test_only_members_of_the_segments_may_use_the_code(store):
    inside, outside = MemberFactory(store=store), MemberFactory(store=store)
    segment = segment_static_create(
        name="VIP", description="", member_ids=[inside.pk], source={}, by=None
    )
    promo = PromoCodeFactory(code="VIP10")
    targeting = PromoCodeTargeting.objects.create(promo_code=promo)
    targeting.segments.set([segment])

    offer = promo_code_validate(
        code="VIP10", member=inside, store=store, total=Decimal("10")
    )
    assert offer.points == 100
    with pytest.raises(InvalidInput) as info:
        promo_code_validate(
            code="VIP10", member=outside, store=store, total=Decimal("10")
        )
    assert info.value.extra["reason"] == "not_eligible_segment"


def test_a_code_without_segments_is_for_everyone(store):
    PromoCodeFactory(code="ALL")
    PromoCodeTargeting.objects.create(promo_code=PromoCodeFactory())
    member = MemberFactory(store=store)
    assert (
        promo_code_validate(
            code="ALL", member=member, store=store, total=Decimal("1")
        ).points
        == 100
    )


def test_a_marketer_links_a_code_to_a_campaign_and_segments(client, marketer):
    client.force_login(marketer)
    promo = PromoCodeFactory(code="LINK", name="Linked")
    segment = segment_static_create(
        name="Fans", description="", member_ids=[], source={}, by=None
    )
    url = reverse("admin:campaigns_promocodetargeting_add")
    response = client.post(url, {"promo_code": promo.pk, "segments": [segment.pk]})
    assert response.status_code == 302
    targeting = PromoCodeTargeting.objects.get()
    assert list(targeting.segments.all()) == [segment]
    changelist = reverse("admin:campaigns_promocodetargeting_changelist")
    assert client.get(changelist, {"q": "LINK"}).status_code == 200
    assert (
        client.get(
            reverse("admin:campaigns_promocodetargeting_change", args=[targeting.pk])
        ).status_code
        == 200
    )


def test_the_report_groups_uses_per_campaign(store, client, marketer):
    from campaigns.tests.factories import campaign_make
    from rewards.selectors.promocodes import promo_report
    from rewards.services import purchase_record

    campaign = campaign_make(name="Spring mail")
    a = PromoCodeFactory(code="A1", points=10)
    b = PromoCodeFactory(code="B1", points=20)
    PromoCodeFactory(code="C1", points=5)
    for promo in (a, b):
        PromoCodeTargeting.objects.create(promo_code=promo, campaign=campaign)
    member = MemberFactory(store=store)
    for n, code in enumerate(["A1", "B1", "C1"]):
        purchase_record(
            store=store, member=member, receipt_id=f"R{n}", total="10", promo_code=code
        )
    rows = {r.label: (r.uses, r.members, r.points) for r in promo_report(by="campaign")}
    assert rows == {"Spring mail": (2, 1, 30), "(none)": (1, 1, 5)}
    client.force_login(marketer)
    page = client.get(
        reverse("admin:rewards_promocode_report"),
        {"by": "campaign"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    assert "Spring mail" in page.content.decode()
