"""Login brute-force lockout (django-axes), API rate limits per till token, and
the security headers every page carries."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from members.tests.factories import UserFactory
from tests.local_redis import needs_redis

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def _login(client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password})


@pytest.mark.parametrize(
    ("url_name", "staff"), [("login", False), ("admin:login", True)]
)
def test_the_sixth_attempt_is_refused_even_with_the_right_password(
    client, axes_on, url_name, staff
):
    user = UserFactory(username="target@example.com", is_staff=staff)
    url = reverse(url_name)
    statuses = [
        _login(client, url, user.username, "wrong-password").status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the 5th failure locks

    response = _login(client, url, user.username, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed attempts to log in" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_the_lockout_is_per_username(client, axes_on):
    UserFactory(username="target@example.com")
    other = UserFactory(username="other@example.com")
    for _ in range(5):
        _login(client, reverse("login"), "target@example.com", "wrong-password")

    response = _login(client, reverse("login"), other.username, PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(other.pk)


def test_a_login_after_fewer_failures_works_and_resets_the_count(client, axes_on):
    user = UserFactory(username="target@example.com")
    for _ in range(4):
        _login(client, reverse("login"), user.username, "wrong-password")

    response = _login(client, reverse("login"), user.username, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("portal:dashboard")
    assert client.session[SESSION_KEY] == str(user.pk)
    client.logout()
    for _ in range(4):  # the success reset the count: four more are allowed
        _login(client, reverse("login"), user.username, "wrong-password")
    assert _login(client, reverse("login"), user.username, PASSWORD).status_code == 302


def test_login_by_email_still_works_through_our_backend(client, axes_on):
    user = UserFactory(username="shopper", email="shopper@example.com")

    response = _login(client, reverse("login"), "shopper@example.com", PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_the_lockout_message_is_translated(client, axes_on):
    UserFactory(username="target@example.com")
    client.cookies["django_language"] = "uk"
    for _ in range(6):
        response = _login(client, reverse("login"), "target@example.com", "nope")

    assert response.status_code == 429
    assert response.headers["Content-Language"] == "uk"


# --- API rate limit -------------------------------------------------------------


@pytest.fixture
def low_rate(settings):
    # DRF reloads api_settings on setting_changed; our throttle reads the rate
    # from there on every request.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "3/min"},
    }


def test_a_token_over_its_rate_gets_a_429_in_the_error_format(api_client, low_rate):
    url = reverse("api-v1:member-lookup")
    for _ in range(3):
        assert api_client.get(url, {"q": "nobody"}).status_code != 429

    response = api_client.get(url, {"q": "nobody"})

    assert response.status_code == 429
    body = response.json()
    assert body["detail"].startswith("Request was throttled.")
    assert body["errors"] == {}
    assert int(response.headers["Retry-After"]) > 0


def test_each_token_has_its_own_budget(api_client, other_api_client, low_rate):
    url = reverse("api-v1:member-lookup")
    for _ in range(4):
        api_client.get(url, {"q": "nobody"})

    assert other_api_client.get(url, {"q": "nobody"}).status_code != 429


def test_the_last_periods_requests_fade_out_over_this_one(store, low_rate):
    # 3/min as a sliding window: the 3 made at the end of one minute weigh
    # fully at the start of the next, and half as much half-way through it.
    from types import SimpleNamespace

    from members.api.throttling import ApiTokenRateThrottle
    from members.services import api_token_create

    token, _raw = api_token_create(store=store, name="till")
    request = SimpleNamespace(auth=token)
    now = [119.0]  # the end of period 1

    def allowed() -> bool:
        throttle = ApiTokenRateThrottle()
        throttle.timer = lambda: now[0]
        return throttle.allow_request(request, None)

    assert [allowed() for _ in range(4)] == [True, True, True, False]
    now[0] = 120.0  # period 2 begins: all 3 still weigh
    assert not allowed()
    now[0] = 150.0  # half-way: 3 × 0.5 = 1.5 weigh, room for two more
    assert [allowed(), allowed(), allowed()] == [True, True, False]
    now[0] = 240.0  # two periods on: nothing weighs
    assert [allowed() for _ in range(4)] == [True, True, True, False]


@needs_redis
def test_the_sliding_window_is_the_same_in_one_redis_round_trip(
    store, low_rate, monkeypatch
):
    # Production's cache: the window's read and count are one script there.
    import os
    import uuid
    from types import SimpleNamespace

    from loyalty_site.redis_cache import RedisCache
    from members.api.throttling import ApiTokenRateThrottle
    from members.services import api_token_create

    url = os.environ.get("THROTTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    redis_cache = RedisCache(url, {"KEY_PREFIX": f"throttle-test-{uuid.uuid4()}"})
    monkeypatch.setattr(ApiTokenRateThrottle, "cache", redis_cache)
    token, _raw = api_token_create(store=store, name="till")
    request = SimpleNamespace(auth=token)
    now = [119.0]
    throttles = []

    def allowed() -> bool:
        throttle = ApiTokenRateThrottle()
        throttle.timer = lambda: now[0]
        throttles.append(throttle)
        return throttle.allow_request(request, None)

    assert [allowed() for _ in range(4)] == [True, True, True, False]
    assert throttles[-1].wait() == 1
    now[0] = 120.0
    assert not allowed()
    now[0] = 150.0
    assert [allowed(), allowed(), allowed()] == [True, True, False]
    assert throttles[-1].estimate == 3.5  # 3 × 0.5 + the 2 counted
    now[0] = 240.0
    assert [allowed() for _ in range(4)] == [True, True, True, False]
    # Counted with the period's expiry, refusals not counted.
    key = ApiTokenRateThrottle().get_cache_key(request, None)
    assert redis_cache.get(f"{key}:4") == 3
    client = redis_cache._cache.get_client(write=True)
    assert 0 < client.ttl(redis_cache.make_key(f"{key}:4")) <= 120


# --- headers ----------------------------------------------------------------------


def test_pages_carry_a_content_security_policy_and_security_headers(client):
    response = client.get(reverse("login"))

    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
