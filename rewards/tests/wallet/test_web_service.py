"""Apple's pass web service answers as Apple documents it ("Adding a Web
Service to Update Passes"): register 201 then 200, a wrong token 401, the
serial numbers changed since a tag or 204, the latest pass or 304 when
unchanged since If-Modified-Since, unregister 200, the log 200."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.utils.http import http_date

from rewards.models import AppleDeviceRegistration, WalletPass
from rewards.services import points_adjust
from rewards.wallet.services import wallet_pass_ensure

pytestmark = pytest.mark.django_db

DEVICE = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4"
BASE = "/wallet/apple/v1"


@pytest.fixture
def wallet_pass(apple_wallet, member):
    return wallet_pass_ensure(member=member)


def _auth(wallet_pass: WalletPass) -> dict:
    return {"HTTP_AUTHORIZATION": f"ApplePass {wallet_pass.auth_token}"}


def _registration_url(wallet_pass, pass_type=None, device=DEVICE) -> str:
    pass_type = pass_type or wallet_pass_type()
    return (
        f"{BASE}/devices/{device}/registrations/{pass_type}/{wallet_pass.serial_number}"
    )


def wallet_pass_type() -> str:
    from django.conf import settings

    return settings.WALLET_APPLE_PASS_TYPE_ID


def _register(client, wallet_pass, push="push-token-1", **headers):
    return client.post(
        _registration_url(wallet_pass),
        data=json.dumps({"pushToken": push}),
        content_type="application/json",
        **(headers or _auth(wallet_pass)),
    )


def test_register_is_201_then_200_and_keeps_the_new_push_token(client, wallet_pass):
    assert _register(client, wallet_pass).status_code == 201
    again = _register(client, wallet_pass, push="push-token-2")
    assert again.status_code == 200
    registration = AppleDeviceRegistration.objects.get()
    assert registration.device_library_id == DEVICE
    assert registration.push_token == "push-token-2"


def test_a_wrong_or_missing_token_is_401(client, wallet_pass, other_store):
    wrong = {"HTTP_AUTHORIZATION": "ApplePass not-the-token-at-all"}
    assert _register(client, wallet_pass, **wrong).status_code == 401
    assert _register(client, wallet_pass, HTTP_AUTHORIZATION="").status_code == 401
    url = f"{BASE}/passes/{wallet_pass_type()}/{wallet_pass.serial_number}"
    assert client.get(url, **wrong).status_code == 401
    assert client.delete(_registration_url(wallet_pass), **wrong).status_code == 401
    # Another member's token does not open this pass.
    from members.tests.factories import MemberFactory

    other = wallet_pass_ensure(member=MemberFactory(store=other_store))
    assert client.get(url, **_auth(other)).status_code == 401
    assert not AppleDeviceRegistration.objects.exists()


def test_register_without_a_push_token_names_the_field(client, wallet_pass):
    response = client.post(
        _registration_url(wallet_pass),
        data="{}",
        content_type="application/json",
        **_auth(wallet_pass),
    )
    assert response.status_code == 400
    assert "pushToken" in response.json()


def test_another_pass_type_is_not_ours(client, wallet_pass):
    url = _registration_url(wallet_pass, pass_type="pass.org.someone.else")
    response = client.post(
        url,
        data=json.dumps({"pushToken": "x"}),
        content_type="application/json",
        **_auth(wallet_pass),
    )
    assert response.status_code == 404


def test_serial_numbers_changed_since_the_tag(client, wallet_pass):
    url = f"{BASE}/devices/{DEVICE}/registrations/{wallet_pass_type()}"
    assert client.get(url).status_code == 204  # nothing registered yet
    _register(client, wallet_pass)

    first = client.get(url)
    assert first.status_code == 200
    body = first.json()
    assert body["serialNumbers"] == [wallet_pass.serial_number]
    tag = body["lastUpdated"]

    assert client.get(url, {"passesUpdatedSince": tag}).status_code == 204

    points_adjust(member=wallet_pass.member, points=40, reason="gift", created_by=None)
    changed = client.get(url, {"passesUpdatedSince": tag})
    assert changed.status_code == 200
    assert changed.json()["serialNumbers"] == [wallet_pass.serial_number]
    assert int(changed.json()["lastUpdated"]) > int(tag)

    bad = client.get(url, {"passesUpdatedSince": "yesterday"})
    assert bad.status_code == 400
    assert "passesUpdatedSince" in bad.json()


def test_latest_pass_then_304_until_it_changes(client, wallet_pass):
    url = f"{BASE}/passes/{wallet_pass_type()}/{wallet_pass.serial_number}"
    first = client.get(url, **_auth(wallet_pass))
    assert first.status_code == 200
    assert first["Content-Type"] == "application/vnd.apple.pkpass"
    last_modified = first["Last-Modified"]
    with zipfile.ZipFile(io.BytesIO(first.content)) as bundle:
        assert (
            json.loads(bundle.read("pass.json"))["storeCard"]["headerFields"][0][
                "value"
            ]
            == 0
        )

    unchanged = client.get(
        url, HTTP_IF_MODIFIED_SINCE=last_modified, **_auth(wallet_pass)
    )
    assert unchanged.status_code == 304

    # Two changes within one second still move Last-Modified on.
    for points in (70, 5):
        points_adjust(
            member=wallet_pass.member, points=points, reason="gift", created_by=None
        )
        fresh = client.get(
            url, HTTP_IF_MODIFIED_SINCE=last_modified, **_auth(wallet_pass)
        )
        assert fresh.status_code == 200
        last_modified = fresh["Last-Modified"]
    with zipfile.ZipFile(io.BytesIO(fresh.content)) as bundle:
        assert (
            json.loads(bundle.read("pass.json"))["storeCard"]["headerFields"][0][
                "value"
            ]
            == 75
        )
    wallet_pass.refresh_from_db()
    assert last_modified == http_date(wallet_pass.updated_at.timestamp())


def test_unregister_is_200_and_forgets_the_device(client, wallet_pass):
    _register(client, wallet_pass)
    response = client.delete(_registration_url(wallet_pass), **_auth(wallet_pass))
    assert response.status_code == 200
    assert not AppleDeviceRegistration.objects.exists()


def test_log_is_200_and_logged(client, apple_wallet, caplog):
    response = client.post(
        f"{BASE}/log",
        data=json.dumps({"logs": ["Pass download failed: bad signature"]}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert "bad signature" in caplog.text
    bad = client.post(f"{BASE}/log", data="[]", content_type="application/json")
    assert bad.status_code == 400
    assert "logs" in bad.json()


def test_without_certificates_the_web_service_is_not_there(client, member):
    wallet_pass = wallet_pass_ensure(member=member)
    url = f"{BASE}/passes/pass.com.example.loyalty/{wallet_pass.serial_number}"
    assert client.get(url, **_auth(wallet_pass)).status_code == 404


def test_an_erased_member_s_pass_stops_answering(client, wallet_pass):
    from members.privacy import member_anonymize

    _register(client, wallet_pass)
    member_anonymize(member=wallet_pass.member, actor=None, source="portal")

    assert not WalletPass.objects.exists()
    assert not AppleDeviceRegistration.objects.exists()
    url = f"{BASE}/passes/{wallet_pass_type()}/{wallet_pass.serial_number}"
    assert client.get(url, **_auth(wallet_pass)).status_code == 401
