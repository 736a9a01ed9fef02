"""Admin pages of promo codes: the form, generating a batch and its CSV, the
uses, and the report (page and CSV)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory, StoreFactory
from rewards.models import PromoCode, PromoCodeBatch, PromoCodeKey, PromoEffect
from rewards.selectors.program import program_settings_get
from rewards.selectors.promocodes import promo_report
from rewards.services import purchase_record, purchase_return_record
from rewards.services.promocode_batches import ALPHABET, promo_batch_generate
from rewards.tests.factories import PromoCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def program(db):
    conf = program_settings_get()
    conf.points_per_unit, conf.min_purchase = Decimal("1"), Decimal("0")
    conf.point_value = Decimal("0.10")
    conf.save()
    return conf


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


def _url(view: str, *args) -> str:
    return reverse(f"admin:rewards_promocode_{view}", args=args)


FORM = {
    "name_uk": "Весна",
    "name_en": "Spring",
    "mode": "shared",
    "code": "spring-25",
    "channel": "email",
    "active": "on",
    "effect": "bonus_points",
    "points": "250",
    "stacking": "stack",
    "min_spend": "0",
}


class TestPromoCodeAdmin:
    def test_a_marketer_adds_a_shared_code(self, marketer_client):
        response = marketer_client.post(_url("add"), FORM)
        assert response.status_code == 302, response.context["adminform"].errors
        promo = PromoCode.objects.get()
        assert promo.keys.get().code == "SPRING25"
        assert promo.points == 250

    def test_the_effect_needs_its_value(self, marketer_client):
        response = marketer_client.post(_url("add"), {**FORM, "points": ""})
        assert response.status_code == 200
        assert "points" in response.context["adminform"].form.errors
        assert not PromoCode.objects.exists()

    def test_a_taken_code_is_refused(self, marketer_client):
        PromoCodeFactory(code="SPRING25")
        response = marketer_client.post(_url("add"), FORM)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["code"] == [
            "Code SPRING25 is taken."
        ]

    def test_changelist_search_and_change(self, marketer_client):
        promo = PromoCodeFactory(code="FIND", name="Findable")
        assert marketer_client.get(_url("changelist")).status_code == 200
        found = marketer_client.get(_url("changelist"), {"q": "FIND"})
        assert "Findable" in found.content.decode()
        page = marketer_client.get(_url("change", promo.pk))
        assert page.status_code == 200
        assert page.context["adminform"].form["code"].value() == "FIND"

    def test_generating_a_batch_and_downloading_it(self, marketer_client):
        promo = PromoCodeFactory(mode="batch", name="Flyers")
        response = marketer_client.post(
            _url("batch", promo.pk), {"size": "300", "label": "May flyers"}
        )
        batch = PromoCodeBatch.objects.get()
        assert response.status_code == 302
        assert batch.keys.count() == 300
        download = marketer_client.post(
            reverse("admin:rewards_promocodebatch_changelist"),
            {"action": "download_codes", "_selected_action": [batch.pk]},
        )
        assert download.status_code == 200
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert len(rows) == 301
        assert {row[0] for row in rows[1:]} == set(
            batch.keys.values_list("code", flat=True)
        )
        for admin_page in ("promocodebatch", "promocodekey", "promocodeuse"):
            url = reverse(f"admin:rewards_{admin_page}_changelist")
            assert marketer_client.get(url, {"q": "A"}).status_code == 200


def test_batch_codes_are_unique_unambiguous_and_single_use():
    promo = PromoCodeFactory(mode="batch")
    PromoCodeKey.objects.create(code="TAKEN23456", promo=PromoCodeFactory())
    seen = []
    batch = promo_batch_generate(
        promo=promo, size=1200, chunk=500, progress=lambda d, n: seen.append((d, n))
    )
    codes = list(batch.keys.values_list("code", "max_uses"))
    assert len(codes) == 1200 == len({c for c, _m in codes})
    assert all(len(c) == 10 and set(c) <= set(ALPHABET) for c, _m in codes)
    assert not set("01OIL") & set(ALPHABET)
    assert {m for _c, m in codes} == {1}
    assert seen[-1] == (1200, 1200) and len(seen) == 3


class TestReport:
    @pytest.fixture
    def used(self, store):
        other = StoreFactory(name="Harbour")
        reward = RewardFactory(points_cost=150)
        bonus = PromoCodeFactory(code="B", points=100, name="Bonus", channel="sms")
        off = PromoCodeFactory(
            code="OFF",
            effect=PromoEffect.DISCOUNT_FIXED,
            points=None,
            discount_amount=Decimal("5"),
            name="Five off",
        )
        gift = PromoCodeFactory(
            code="GIFT",
            effect=PromoEffect.VOUCHER,
            points=None,
            reward=reward,
            name="Gift",
        )
        a, b = MemberFactory(store=store), MemberFactory(store=store)
        purchase_record(
            store=store, member=a, receipt_id="1", total="50", promo_code="B"
        )
        purchase_record(
            store=other, member=b, receipt_id="2", total="30", promo_code="B"
        )
        purchase_record(
            store=store, member=a, receipt_id="3", total="95", promo_code="OFF"
        )
        gone, _ = purchase_record(
            store=store, member=b, receipt_id="4", total="20", promo_code="OFF"
        )
        purchase_return_record(purchase=gone, store=store, receipt_id="R4", amount="20")
        purchase_record(
            store=store, member=b, receipt_id="5", total="10", promo_code="GIFT"
        )
        return bonus, off, gift

    def test_per_code_counts_uses_members_revenue_and_cost(self, used):
        rows = {r.label: r for r in promo_report(by="code")}
        assert (rows["Bonus"].uses, rows["Bonus"].members) == (2, 2)
        assert rows["Bonus"].revenue == Decimal("80.00")
        assert (rows["Bonus"].points, rows["Bonus"].money_cost) == (
            200,
            Decimal("20.00"),
        )
        # The returned purchase's use is left out.
        assert (rows["Five off"].uses, rows["Five off"].discount) == (
            1,
            Decimal("5.00"),
        )
        assert rows["Five off"].money_cost == Decimal("5.00")
        assert (rows["Gift"].points, rows["Gift"].money_cost) == (150, Decimal("15.00"))

    def test_per_store_and_channel(self, used):
        stores = {r.label: r.uses for r in promo_report(by="store")}
        assert stores == {"Main Street": 3, "Harbour": 1}
        channels = {r.label: r.uses for r in promo_report(by="channel")}
        assert channels == {"SMS": 2, "Other": 2}

    def test_page_and_csv(self, marketer_client, used, django_assert_max_num_queries):
        with django_assert_max_num_queries(12):
            page = marketer_client.get(_url("report"), {"by": "day"})
        assert page.status_code == 200
        assert len(page.context["rows"]) == 1
        download = marketer_client.get(_url("report_csv"), {"by": "code"})
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert rows[0][0] == "Promo code"
        assert {row[0] for row in rows[1:]} == {"Bonus", "Five off", "Gift"}

    def test_a_cashier_may_not_see_it(self, client, cashier):
        client.force_login(cashier)
        assert client.get(_url("report")).status_code == 403


def test_the_command_generates_a_batch_and_writes_its_csv(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    promo = PromoCodeFactory(mode="batch", name="Leaflets")
    out = tmp_path / "codes.csv"
    stdout, stderr = StringIO(), StringIO()
    call_command(
        "promo_codes_generate",
        promo.pk,
        50,
        label="June",
        csv=str(out),
        stdout=stdout,
        stderr=stderr,
    )
    batch = PromoCodeBatch.objects.get()
    assert "50/50 codes" in stderr.getvalue()
    assert f"Batch {batch.pk}: 50 codes." in stdout.getvalue()
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 51 and rows[1][1:3] == ["Leaflets", "June"]
