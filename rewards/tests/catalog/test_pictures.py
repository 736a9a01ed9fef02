"""Reward pictures: uploaded in admin, a 600 × 400 thumbnail made by
reward_save, shown in the catalog and on the voucher; a placeholder without."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from demo.reward_pictures import PICTURES, reward_picture_png
from members.errors import InvalidInput
from rewards.models import Reward
from rewards.services import points_adjust, reward_redeem, reward_save
from rewards.services.pictures import REWARD_THUMBNAIL_SIZE
from rewards.tests.catalog.test_admin import REWARD_FORM
from rewards.tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

CATALOG = reverse("catalog:catalog")
PLACEHOLDER = "img/reward-placeholder.svg"


def _png(size=(1200, 900), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _stored(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as stored:
        image = Image.open(stored)
        image.load()
    return image


def _picture_srcs(html: str) -> list[str]:
    return re.findall(r'data-testid="reward-picture" src="([^"]+)"', html)


@pytest.fixture
def logged_in(client, customer):
    user, member = customer
    points_adjust(member=member, points=1000, reason="start", created_by=None)
    client.force_login(user)
    return client, member


def test_admin_upload_makes_the_thumbnail(client, admin_user):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("coffee.png", _png(), content_type="image/png")

    response = client.post(
        reverse("admin:rewards_reward_add"), {**REWARD_FORM, "image": upload}
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    reward = Reward.objects.get(name_uk="Tote bag")
    assert reward.image.name.startswith("rewards/coffee")
    assert reward.image_thumbnail.name.startswith("rewards/thumbs/coffee")
    thumb = _stored(reward.image_thumbnail.name)
    assert (thumb.format, thumb.size) == ("JPEG", REWARD_THUMBNAIL_SIZE)
    change = client.get(reverse("admin:rewards_reward_change", args=[reward.pk]))
    assert f'<img src="{reward.image_thumbnail.url}"' in change.text


def test_admin_refuses_a_file_that_is_not_a_picture(client, admin_user):
    client.force_login(admin_user)
    fake = SimpleUploadedFile("coffee.png", b"not a png", content_type="image/png")
    response = client.post(
        reverse("admin:rewards_reward_add"), {**REWARD_FORM, "image": fake}
    )
    assert response.status_code == 200
    assert "image" in response.context["adminform"].form.errors
    assert not Reward.objects.filter(name_uk="Tote bag").exists()


def test_a_new_picture_makes_a_new_thumbnail_and_none_drops_it():
    reward = RewardFactory()
    reward.image = ContentFile(_png(colour=(200, 0, 0)), name="a.png")
    reward_save(reward=reward)
    first = reward.image_thumbnail.name

    reward.refresh_from_db()
    reward.points_cost += 1
    reward_save(reward=reward)  # an edit that keeps the picture keeps the thumbnail
    assert reward.image_thumbnail.name == first

    reward.image = ContentFile(_png(colour=(0, 0, 200)), name="b.png")
    reward_save(reward=reward)
    assert reward.image_thumbnail.name != first
    assert _stored(reward.image_thumbnail.name).getpixel((300, 200))[2] > 180

    reward.image = None
    reward_save(reward=reward)
    reward.refresh_from_db()
    assert not reward.image_thumbnail


def test_a_service_caller_with_an_unreadable_file_gets_a_field_error():
    reward = RewardFactory.build()
    reward.image = ContentFile(b"not a picture", name="x.png")
    with pytest.raises(InvalidInput, match="not a picture") as refused:
        reward_save(reward=reward)
    assert refused.value.field == "image"


def test_catalog_and_voucher_show_the_thumbnail_or_the_placeholder(logged_in):
    client, member = logged_in
    pictured = RewardFactory(name="Coffee", points_cost=100)
    pictured.image = ContentFile(_png(), name="coffee.png")
    reward_save(reward=pictured)
    plain = RewardFactory(name="Bag", points_cost=200)

    html = client.get(CATALOG).text

    srcs = _picture_srcs(html)
    assert len(srcs) == 2  # every card has a picture
    assert pictured.image_thumbnail.url in srcs
    assert any(src.endswith(PLACEHOLDER) for src in srcs)

    with_picture, _ = reward_redeem(member=member, reward=pictured, idempotency_key="a")
    without, _ = reward_redeem(member=member, reward=plain, idempotency_key="b")
    page = client.get(reverse("catalog:voucher", args=[with_picture.code])).text
    assert _picture_srcs(page) == [pictured.image_thumbnail.url]
    page = client.get(reverse("catalog:voucher", args=[without.code])).text
    assert _picture_srcs(page)[0].endswith(PLACEHOLDER)


def test_an_image_address_still_works_without_an_upload(logged_in):
    client, _member = logged_in
    RewardFactory(image_url="img/favicon.svg")
    RewardFactory(image_url="https://cdn.example.com/a.jpg")
    srcs = _picture_srcs(client.get(CATALOG).text)
    assert "/static/img/favicon.svg" in srcs
    assert "https://cdn.example.com/a.jpg" in srcs


def test_pictures_add_no_query_to_the_catalog(logged_in, django_assert_num_queries):
    client, _member = logged_in
    RewardFactory.create_batch(3)
    client.get(CATALOG)  # the first page after a change reads the branding once
    with CaptureQueriesContext(connection) as plain:
        client.get(CATALOG)
    for reward in Reward.objects.all():
        reward.image = ContentFile(_png((300, 200)), name="r.png")
        reward_save(reward=reward)
    with django_assert_num_queries(len(plain.captured_queries)):
        client.get(CATALOG)


def test_the_demo_draws_pictures_for_most_rewards():
    assert len(PICTURES) >= 3
    for index in PICTURES:
        image = Image.open(io.BytesIO(reward_picture_png(index)))
        assert image.format == "PNG" and image.width > REWARD_THUMBNAIL_SIZE[0]
    assert reward_picture_png(max(PICTURES) + 1) is None
