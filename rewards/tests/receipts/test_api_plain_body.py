"""The earn request's usual body is validated and answered without its
serializers (rewards.api.purchases: purchase_input_plain, output_data): the
same validated data and the same answer as the serializers give, and any other
body still goes through the serializer, which words its errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from rewards.api.purchases import PurchaseCreateApi, purchase_input_plain
from rewards.models import Purchase
from rewards.services import purchase_record

InputSerializer = PurchaseCreateApi.InputSerializer

# Values near and past each field's bounds, of every JSON type.
TEXTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=10**13),
    st.floats(allow_nan=True),
    st.just(""),
    st.just(" "),
    st.from_regex(r"[0-9 -]{0,45}", fullmatch=True),
    st.from_regex(r"\s*[0-9]{0,12}(\.[0-9]{0,3})?\s*", fullmatch=True),
    st.text(max_size=70),
    st.text(alphabet="R-9\x00\u00a0\ud800é ", max_size=70),
    st.lists(st.integers(), max_size=1),
)
# Sales as tills send them, most of them valid: by card or by phone.
CARDS = st.from_regex(r" ?[0-9][0-9 -]{0,22}", fullmatch=True)
PHONES = st.from_regex(r"\+?[0-9 ]{0,42}", fullmatch=True)
SALES = st.one_of(
    *(
        st.fixed_dictionaries(
            {
                who: numbers,
                "receipt_id": st.from_regex(r" ?[!-~][ -~]{0,66}", fullmatch=True),
                "total": st.from_regex(r"[0-9]{1,11}(\.[0-9]{0,3})?", fullmatch=True),
            },
            optional={other: st.none(), "lines": st.none(), "promo_code": st.none()},
        )
        for who, other, numbers in [
            ("card_number", "phone", CARDS),
            ("phone", "card_number", PHONES),
        ]
    )
)
BODIES = st.one_of(
    SALES,
    SALES,
    SALES,
    st.fixed_dictionaries(
        {},
        optional={
            "card_number": TEXTS,
            "phone": TEXTS,
            "receipt_id": TEXTS,
            "total": TEXTS,
            "occurred_at": st.one_of(st.none(), st.just("2026-01-01T10:00:00")),
            "lines": st.one_of(st.none(), st.just([])),
            "promo_code": st.one_of(st.none(), st.just(""), st.just("SPRING")),
            "extra": TEXTS,
        },
    ),
    st.lists(st.integers(), max_size=2),
    st.none(),
)


def serializer_data(body) -> dict | None:
    serializer = InputSerializer(data=body)
    return dict(serializer.validated_data) if serializer.is_valid() else None


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=BODIES)
@example(body={"card_number": "1234 5678-9", "receipt_id": " R-1 ", "total": "5"})
@example(body={"phone": "+380 67 123 45 67", "receipt_id": "R", "total": "0.01"})
@example(body={"card_number": "1", "receipt_id": "R", "total": "9999999999.99"})
@example(body={"card_number": "1", "phone": None, "receipt_id": "R", "total": "1"})
@example(body={"card_number": "1", "receipt_id": "R", "total": "0.00"})
@example(body={"card_number": "1", "receipt_id": "R", "total": "1.5", "lines": None})
def test_the_plain_body_validates_as_the_serializer_does(body):
    plain = purchase_input_plain(body)
    event("plain" if plain is not None else "serializer")
    if plain is not None:
        # Whatever it takes, the serializer takes the same way, to the type.
        expected = serializer_data(body)
        assert plain == expected
        assert [type(v) for v in plain.values()] == [type(v) for v in expected.values()]
        assert plain["total"].as_tuple() == expected["total"].as_tuple()


def test_the_plain_body_takes_the_usual_sale():
    body = {"card_number": "0001 2345", "receipt_id": "R-1", "total": "412.5"}

    assert purchase_input_plain(body) == {
        "card_number": "00012345",
        "receipt_id": "R-1",
        "total": Decimal("412.50"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("receipt_id", ["R-1", "R-2"])
def test_the_plain_answer_is_the_serializers(member, store, receipt_id):
    purchase, _replayed = purchase_record(
        store=store, member=member, receipt_id=receipt_id, total=Decimal("412.50")
    )
    purchase = Purchase.objects.get(pk=purchase.pk)
    breakdown = [{"stage": "base", "rule": None, "name": "", "points": 41}]
    context = {"breakdown": breakdown, "stamped": False, "promo_code": None}

    plain = PurchaseCreateApi.output_data(
        purchase, breakdown=breakdown, stamped=False, promo_code=None
    )

    assert plain == PurchaseCreateApi.OutputSerializer(purchase, context=context).data
    assert list(plain) == list(PurchaseCreateApi.OutputSerializer().fields)
