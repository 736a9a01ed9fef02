"""Admin pages of the models that moved from members to rewards keep answering at
their old addresses (links in emails sent before the move, bookmarks)."""

import pytest
from django.urls import reverse

from loyalty_site.admin_site import MOVED_TO_REWARDS
from rewards.models import AnomalyFlag

pytestmark = pytest.mark.django_db


def test_every_moved_model_is_a_rewards_model_with_an_admin():
    from django.apps import apps
    from django.contrib import admin

    for name in MOVED_TO_REWARDS:
        model = apps.get_model("rewards", name)
        assert model in admin.site._registry, name
        assert model._meta.db_table.startswith("members_"), "the table stayed"


@pytest.mark.parametrize("model", MOVED_TO_REWARDS)
def test_an_old_admin_address_redirects_to_the_new_one(admin_client, model):
    response = admin_client.get(f"/admin/members/{model}/?status=open")
    assert response.status_code == 301
    assert response["Location"] == f"/admin/rewards/{model}/?status=open"
    assert admin_client.get(response["Location"], follow=True).status_code == 200


def test_an_old_change_page_address_keeps_its_object(admin_client):
    url = reverse("admin:rewards_anomalyflag_changelist")
    response = admin_client.get("/admin/members/anomalyflag/7/change/")
    assert response["Location"] == f"{url}7/change/"
    assert AnomalyFlag._meta.app_label == "rewards"
