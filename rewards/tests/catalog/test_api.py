"""The till API for vouchers: validate and consume, replays, conflicts and unknown codes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from rewards.models import RewardType, VoucherStatus
from rewards.services import points_adjust, reward_redeem, voucher_cancel
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(api_client):
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api_client


@pytest.fixture
def voucher(member):
    points_adjust(member=member, points=500, reason="start", created_by=None)
    reward = RewardFactory(
        name="50 UAH off", type=RewardType.FIXED_DISCOUNT, value=Decimal("50")
    )
    voucher, _ = reward_redeem(member=member, reward=reward, idempotency_key="k")
    return voucher


def _validate(client, code):
    return client.post(f"/api/v1/vouchers/{code}/validate", format="json")


def _consume(client, code, receipt_id="R-1"):
    return client.post(
        f"/api/v1/vouchers/{code}/consume", {"receipt_id": receipt_id}, format="json"
    )


def test_validate_describes_a_usable_voucher(till, voucher):
    response = _validate(till, voucher.code.lower().replace("-", ""))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["code"] == voucher.code
    assert body["status"] == "issued"
    assert body["reward"] == "50 UAH off"
    assert body["reward_type"] == "fixed"
    assert body["value"] == "50.00"
    assert body["valid"] is True
    assert body["reason"] == ""
    assert body["expires_at"]


def test_validate_says_why_a_used_voucher_is_not_valid(till, voucher):
    _consume(till, voucher.code)
    body = _validate(till, voucher.code).json()
    assert body["status"] == "used"
    assert body["valid"] is False
    assert body["reason"].startswith(f"Voucher {voucher.code} was already used on ")


def test_validate_unknown_code_is_a_json_404(till):
    response = _validate(till, "ZZZZZ-ZZZZZ")
    assert response.status_code == 404
    assert response.json()["detail"] == "No voucher has the code ZZZZZ-ZZZZZ."
    assert _validate(till, "nonsense!").status_code == 404


def test_consume_then_replay_then_conflict(till, voucher):
    first = _consume(till, voucher.code)
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "used"
    assert first.json()["used_receipt_id"] == "R-1"

    again = _consume(till, voucher.code)
    assert again.status_code == 200
    assert again.json() == first.json()

    other = _consume(till, voucher.code, "R-2")
    assert other.status_code == 409
    body = other.json()
    assert body["detail"].startswith(f"Voucher {voucher.code} was already used on ")
    # Only that and when: not the store nor the receipt it was used on.
    assert body["detail"].endswith("; a voucher is used once.")
    assert "Main Street" not in body["detail"] and "R-1" not in body["detail"]
    assert body["status"] == "used"


def test_consume_an_expired_or_cancelled_voucher_is_409_with_the_reason(
    till, voucher, member
):
    voucher_cancel(voucher=voucher, by=None)
    response = _consume(till, voucher.code)
    assert response.status_code == 409
    assert response.json()["detail"].startswith(
        f"Voucher {voucher.code} was cancelled on "
    )

    old, _ = reward_redeem(
        member=member,
        reward=RewardFactory(),
        idempotency_key="old",
        recorded_at=timezone.now() - dt.timedelta(days=40),
    )
    response = _consume(till, old.code)
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"Voucher {old.code} expired on ")
    old.refresh_from_db()
    assert old.status == VoucherStatus.ISSUED  # the nightly job marks it


def test_consume_needs_a_receipt_id(till, voucher):
    response = till.post(f"/api/v1/vouchers/{voucher.code}/consume", {}, format="json")
    assert response.status_code == 400
    assert "receipt_id" in response.json()["errors"]


def test_consume_unknown_code_is_404(till):
    assert _consume(till, "ZZZZZ-ZZZZZ").status_code == 404


def test_voucher_api_needs_a_till_token(client, voucher):
    response = client.post(f"/api/v1/vouchers/{voucher.code}/validate")
    assert response.status_code == 401


def test_schema_lists_the_voucher_endpoints(till):
    response = till.get("/api/v1/schema/?format=json")
    paths = response.json()["paths"] if response.status_code == 200 else {}
    if not paths:
        from drf_spectacular.generators import SchemaGenerator

        paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert "/api/v1/vouchers/{code}/validate" in paths
    assert "/api/v1/vouchers/{code}/consume" in paths
