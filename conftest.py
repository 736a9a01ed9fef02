"""Fixtures shared by every app's tests."""

import os
import shutil

import pytest

from loyalty_site.browser import CHROMIUM, CHROMIUM_ARGS

os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    have_chromium = shutil.which(CHROMIUM) is not None
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL row locks; SQLite serializes all writers, set DATABASE_URL to run"
    )
    skip_browser = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` (make test does, as root)"
    )
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "browser" in item.keywords and not have_chromium:
            item.add_marker(skip_browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session", autouse=True)
def _celery_eager():
    """Tasks queued on commit run in the test's own process unless a test starts a
    real worker (those fixtures switch eager mode off for their module)."""
    from loyalty_site.celery import app

    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(task_always_eager=False, task_eager_propagates=False)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    from django.core.cache import cache
    from django.utils import translation

    from members import sms
    from members.branding import branding_cache_set_defaults

    settings.LOYALTY_SMS_BACKEND = "members.sms.LocmemSmsBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Uploads (reward pictures, the logo) go to the test's own folder.
    settings.MEDIA_ROOT = tmp_path / "media"
    # Many tests log in with client.login() (no request, which django-axes needs)
    # or fail on purpose; tests of the lockout turn it back on.
    settings.AXES_ENABLED = False
    # The default database cache (settings.CACHES) would put queries into every
    # throttled request's count; tests keep counters in local memory, which the
    # deploy-check test flags as per-process (loyalty_site.checks).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    # As with a shared cache (Redis) in production: the dashboard's panels are
    # kept (loyalty_site.dashboard_cache), so every dashboard test goes through it.
    settings.DASHBOARD_CACHE_SECONDS = 300
    # Likewise the till tokens each process keeps (members.services.tokens).
    settings.API_TOKEN_CACHE = True
    # API rate-limit counters must not carry over from one test to the next.
    cache.clear()
    # The branding as the migrations leave it, already cached, as on a running
    # site: a page's query count does not depend on being the first after a
    # change (tests of the branding clear it; saving it clears it too).
    branding_cache_set_defaults()
    # Tests read English messages; tests of other languages switch explicitly.
    settings.LANGUAGE_CODE = "en"
    sms.outbox.clear()
    with translation.override("en"):
        yield


@pytest.fixture
def sms_outbox():
    from members import sms

    return sms.outbox


@pytest.fixture
def store(db):
    from members.tests.factories import StoreFactory

    return StoreFactory(code="main", name="Main Street")


@pytest.fixture
def other_store(db):
    from members.tests.factories import StoreFactory

    return StoreFactory(code="other", name="Other Shop")


@pytest.fixture
def member(db, store):
    from members.tests.factories import MemberFactory

    return MemberFactory(store=store)


@pytest.fixture
def customer(db, store):
    """A member with a web login: (user, member). Password: pass-word-123."""
    from members.tests.factories import MemberFactory, UserFactory

    user = UserFactory(username="customer@example.com")
    member = MemberFactory(store=store, user=user, email="customer@example.com")
    return user, member


def api_client_for(store):
    from rest_framework.test import APIClient

    from members.services import api_token_create

    _token, raw = api_token_create(store=store, name="till 1")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def api_client(store):
    """A DRF client authenticated with a till token of `store`."""
    return api_client_for(store)


@pytest.fixture
def other_api_client(other_store):
    return api_client_for(other_store)


def _staff_groups_ensure() -> None:
    """Transactional tests empty every table; put the staff groups back as
    loyalty_site/roles.py defines them (writes nothing when they match)."""
    from loyalty_site.roles import roles_sync

    roles_sync()


@pytest.fixture
def staff_groups(db):
    """The Cashier, Manager and Marketer groups with their rights from
    loyalty_site/roles.py (a transactional test run earlier in this process may
    have emptied them)."""
    _staff_groups_ensure()


def staff_user_make(group_name: str, username: str, store):
    from django.contrib.auth.models import Group

    from members.tests.factories import UserFactory

    _staff_groups_ensure()
    user = UserFactory(username=username, is_staff=True, store=store)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def cashier(store):
    return staff_user_make("Cashier", "cashier", store)


@pytest.fixture
def manager(store):
    return staff_user_make("Manager", "manager", store)


@pytest.fixture
def marketer(store):
    return staff_user_make("Marketer", "marketer", store)


@pytest.fixture
def vapid(settings):
    """Web push configured as settings_services.py configures it when both
    VAPID keys are set (a fresh pair, the pywebpush backend); the public key."""
    from members.push import vapid_keys_new

    private, public = vapid_keys_new()
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = private, public
    settings.VAPID_SUBJECT = "mailto:push@example.com"
    settings.LOYALTY_PUSH_BACKEND = "campaigns.messaging.backends.push.WebPushBackend"
    return public


@pytest.fixture
def webhook_receiver():
    """A local HTTP server standing in for a webhook endpoint
    (members/tests/webhooks/receiver.py): `.requests`, `.statuses` to fail."""
    from members.tests.webhooks.receiver import FakeReceiver

    receiver = FakeReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(autouse=True)
def _webhook_endpoints_none(settings):
    """Each test starts with no webhook endpoint, as its database has, held
    until an endpoint service changes them (members.services.webhooks), so
    that statement counts do not depend on the clock."""
    from members.services.webhooks import (
        webhook_endpoints_forget,
        webhook_endpoints_hold,
    )

    settings.WEBHOOK_ENDPOINTS_HELD = 3600.0
    webhook_endpoints_hold([])
    yield
    webhook_endpoints_forget()


@pytest.fixture(autouse=True)
def _celery_join_allowed():
    """An in-process Celery worker (celery.contrib.testing's start_worker) sets
    Celery's process-wide "joining a result would block" flag when its pool
    starts, and may leave it set; a later test of the same xdist process then
    fails on `task.apply().get()` with "Never call result.get() within a
    task!". Each test starts and ends with it cleared."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
    _set_task_join_will_block(False)
