"""The till's enrolment takes where the customer came from: `source` (default
till, at the till's store) and the link's utm_source/medium/campaign; a bad
value is a 400 naming the field."""

import pytest
from django.urls import reverse

from members.models import Member, MemberSource
from members.tests.factories import PartnerFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = "api-v1:member-create"


def _enrol(client, **body):
    return client.post(reverse(URL), {"phone": "+380672230001", **body}, format="json")


def test_no_source_is_a_till_enrolment_at_the_tills_store(api_client, store):
    response = _enrol(api_client)
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "till"
    member = Member.objects.get(card_number=response.json()["card_number"])
    assert (member.source, member.enrolled_store) == (MemberSource.TILL, store)


def test_an_online_source_with_utm_values_is_kept(api_client, store):
    response = _enrol(
        api_client,
        source="online",
        utm_source=" instagram ",
        utm_medium="social",
        utm_campaign="spring-coffee",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["utm_source"], body["utm_campaign"]) == (
        "online",
        "instagram",
        "spring-coffee",
    )
    member = Member.objects.get(card_number=body["card_number"])
    assert (
        member.source,
        member.utm_source,
        member.utm_medium,
        member.utm_campaign,
        member.enrolled_store,
    ) == (MemberSource.ONLINE, "instagram", "social", "spring-coffee", store)


def test_an_explicit_till_source_wins_over_a_partner_store(db):
    from conftest import api_client_for

    partner_store = StoreFactory(partner=PartnerFactory())
    client = api_client_for(partner_store)
    assert _enrol(client).json()["source"] == "partner"
    response = _enrol(client, phone="+380672230002", source="import")
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "import"


def test_a_referral_names_the_friend(api_client, member):
    response = _enrol(api_client, source="referral", referral_code=member.referral_code)
    assert response.status_code == 201, response.json()
    new = Member.objects.get(card_number=response.json()["card_number"])
    assert (new.source, new.referred_by) == (MemberSource.REFERRAL, member)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"source": "tv"}, "source", "is not a valid choice"),
        ({"source": 7}, "source", "is not a valid choice"),
        ({"source": "referral"}, "referral_code", "needs the friend's referral code"),
        ({"utm_source": "x" * 101}, "utm_source", "no more than 100 characters"),
        ({"utm_medium": "cpc\x07"}, "utm_medium", "without control characters"),
        ({"utm_campaign": ["a"]}, "utm_campaign", "Not a valid string"),
    ],
)
def test_a_bad_source_or_utm_value_is_a_400_naming_the_field(
    api_client, body, field, message
):
    response = _enrol(api_client, **body)
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert not Member.objects.exists()


def test_the_schema_documents_source_and_utm(client):
    schema = client.get(reverse("api-v1:schema"), {"format": "json"}).json()
    props = schema["components"]["schemas"]["MemberCreateInputRequest"]["properties"]
    assert {"source", "utm_source", "utm_medium", "utm_campaign"} <= set(props)
    assert props["utm_source"]["maxLength"] == 100
    output = schema["components"]["schemas"]["MemberCreateOutput"]["properties"]
    assert "source" in output
