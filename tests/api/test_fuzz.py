"""Fuzz the POS API from its own OpenAPI schema (schemathesis).

The schema is fetched from /api/v1/schema/ through the WSGI app, as a till's
developer would read it; then, for every operation, schemathesis generates
requests, valid and invalid, and sends them through Django's WSGI app with a
real till token. Each response must not be a 5xx and must match the schema:
its status is documented, its content type and body fit what is documented.

Half the requests that name a card (or a purchase) are pointed at a real
member (or purchase) of the till's store, so that they reach the services
rather than stopping at "not found". Bounded: FUZZ_EXAMPLES per operation.
"""

from __future__ import annotations

import os
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from members.services import api_token_create
from members.tests.factories import MemberFactory
from rewards.services import points_adjust, purchase_record, reward_redeem
from rewards.tests.factories import PromoCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]


@pytest.fixture
def till(store):
    """A member with points, a purchase and a voucher at the till's store; its token."""
    member = MemberFactory(store=store)
    points_adjust(member=member, points=5_000, reason="Opening", created_by=None)
    purchase, _replayed = purchase_record(
        store=store, member=member, receipt_id="F-1", total="500.00"
    )
    voucher, _replayed = reward_redeem(
        member=member, reward=RewardFactory(points_cost=10), idempotency_key="F-v"
    )
    PromoCodeFactory(code="FUZZ25", points=20)
    _token, raw = api_token_create(store=store, name="fuzzing till")
    return {
        "token": raw,
        "card": member.card_number,
        "phone": member.phone,
        "purchase": str(purchase.pk),
        "voucher": voucher.code,
        "promo": "FUZZ25",
    }


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the schema, read when tests are collected."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in paths["paths"].items()
        for method in item
    )


@pytest.fixture
def wsgi_in_test_transaction(db):
    """Requests through the real WSGI handler, inside the test's transaction.

    The handler closes "old" connections when a request starts and ends; inside
    a test's atomic block that would close the test's own connection (on
    PostgreSQL; SQLite's in-memory one survives). Django's test Client
    disconnects the same receivers."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_in_test_transaction):
    """The schema as the API serves it at /api/v1/schema/."""
    from loyalty_site.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


def _aim_at_real_rows(case, till) -> None:
    """Point about half the cases at rows that exist, chosen by the case's own data.

    The schema cannot say "a card or a phone, one of them", so an aimed case
    names the member by card only."""
    if zlib.crc32(repr((case.path_parameters, case.body, case.query)).encode()) % 2:
        return
    params = case.path_parameters or {}
    for name, real in [
        ("purchase_id", "purchase"),
        ("code", "promo" if "promo-codes" in case.path else "voucher"),
        ("card_number", "card"),
    ]:
        if name in params:
            params[name] = till[real]
    body = case.body if isinstance(case.body, dict) else {}
    if "card_number" in body or ("phone" in body and "receipt_id" in body):
        body["card_number"] = till["card"]
        body.pop("phone", None)
    if "promo_code" in body:
        body["promo_code"] = till["promo"]
    query = case.query if isinstance(case.query, dict) else {}
    if "card" in query or "phone" in query:
        query["card"] = till["card"]
        query.pop("phone", None)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), _operations())
def test_api_answers_generated_requests_as_documented(
    api_schema, till, method, path, mode
):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        _aim_at_real_rows(case, till)
        # Always the real token: negative mode would otherwise mostly test a
        # mangled Authorization header, which members/tests/api/test_members.py covers.
        case.headers = {
            **(case.headers or {}),
            "Authorization": f"Token {till['token']}",
        }
        case.call_and_validate(checks=CHECKS)

    check()
