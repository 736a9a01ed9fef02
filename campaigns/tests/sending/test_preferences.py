"""A customer picks the channel and hour campaigns use, on the preferences page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_customer_sets_preferred_channel_and_hour(client, customer):
    user, member = customer
    client.force_login(user)

    response = client.post(
        reverse("portal:preferences"),
        {"email": "on", "preferred_channel": "sms", "preferred_send_hour": "9"},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.preferred_channel, member.preferred_send_hour) == ("sms", 9)
    page = client.get(reverse("portal:preferences"))
    assert page.context["form"].initial["preferred_channel"] == "sms"


def test_an_hour_outside_the_day_is_refused(client, customer):
    user, member = customer
    client.force_login(user)

    response = client.post(reverse("portal:preferences"), {"preferred_send_hour": "25"})

    assert response.status_code == 200
    assert response.context["form"].errors["preferred_send_hour"]
