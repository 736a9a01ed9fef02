"""Till API tokens: api_token_create, api_token_check and api_token_revoke."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from members.models import ApiToken
from members.services import (
    api_token_check,
    api_token_create,
    api_token_delete,
    api_token_revoke,
    partner_create,
    partner_save,
    store_delete,
    store_save,
    tokens,
)
from members.services.tokens import api_token_hash

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- API tokens ------------------------------------------------------------------------


class TestApiTokens:
    def test_only_the_hash_of_a_token_is_stored(self, store):
        token, raw = api_token_create(store=store, name="Till 2")

        token.refresh_from_db()
        assert len(raw) >= 40
        assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert token.prefix == raw[:8]
        stored = [
            str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields
        ]
        assert not any(raw in value for value in stored)

    def test_check_finds_the_active_token(self, store):
        token, raw = api_token_create(store=store, name="Till 2")

        assert api_token_check(raw) == token
        assert api_token_check(raw).store == store
        assert api_token_check(raw + "x") is None
        assert api_token_check("") is None
        assert api_token_check(token.key_hash) is None  # the hash is not a key

    def test_revoked_token_no_longer_works(self, store):
        token, raw = api_token_create(store=store, name="Till 2")

        api_token_revoke(token=token)
        token.refresh_from_db()
        revoked_at = token.revoked_at
        api_token_revoke(token=token)

        assert api_token_check(raw) is None
        token.refresh_from_db()
        assert token.revoked_at == revoked_at is not None
        assert not token.is_active

    def test_token_of_a_closed_store_no_longer_works(self, store):
        _token, raw = api_token_create(store=store, name="Till 2")
        store.is_active = False
        store.save()

        assert api_token_check(raw) is None

    def test_tokens_are_different_each_time(self, store):
        raws = {api_token_create(store=store, name="Till")[1] for _ in range(5)}

        assert len(raws) == 5

    def test_check_reads_the_rows_as_the_orm_does(self, store):
        # api_token_check reads with a statement of its own (members.rows): every
        # value, dates and booleans included, as a queryset would give it.
        token, raw = api_token_create(store=store, name="Till 2")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.created_at)
        expected = ApiToken.objects.select_related("store").get(pk=token.pk)

        found = api_token_check(raw)

        for field in ApiToken._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname)
        for field in type(store)._meta.concrete_fields:
            value = getattr(found.store, field.attname)
            assert value == getattr(expected.store, field.attname)
            assert type(value) is type(getattr(expected.store, field.attname))
        assert found.last_used_at.tzinfo is not None


# --- Tokens kept by each process (settings.API_TOKEN_CACHE) ------------------------------


def _revoke(token, store):
    api_token_revoke(token=token)


def _delete(token, store):
    api_token_delete(token=token)


def _close_store(token, store):
    store.is_active = False
    store_save(store=store)


def _move_store_to_a_partner(token, store):
    # A queryset update: no signal, so the service says so itself.
    partner_create(name="Bakery", stores=[store])


def _delete_store(token, store):
    store_delete(store=store)


def _save_the_stores_partner(token, store):
    store.partner = partner_create(name="Bakery", stores=[])
    store.save()
    partner_save(partner=store.partner)


def _save_token(token, store):
    token.revoked_at = timezone.now()
    token.save()


# Every way a token stops being what a till may use: each must reach every
# process holding it, at once and again when its transaction commits.
CHANGES = [
    _revoke,
    _delete,
    _close_store,
    _delete_store,
    _move_store_to_a_partner,
    _save_the_stores_partner,
    _save_token,
]


class TestTokensKeptByEachProcess:
    def test_a_second_check_reads_nothing(self, store, django_assert_num_queries):
        token, raw = api_token_create(store=store, name="Till 2")
        with django_assert_num_queries(1):
            first = api_token_check(raw)
        with django_assert_num_queries(0):
            again = api_token_check(raw)

        assert first == again == token
        assert again.store == store

    def test_off_the_row_is_read_every_time(
        self, settings, store, django_assert_num_queries
    ):
        settings.API_TOKEN_CACHE = False
        _token, raw = api_token_create(store=store, name="Till 2")
        api_token_check(raw)
        with django_assert_num_queries(1):
            assert api_token_check(raw) is not None

    @pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
    def test_a_change_reaches_a_process_that_holds_the_token(
        self, store, change, django_capture_on_commit_callbacks
    ):
        token, raw = api_token_create(store=store, name="Till 2")
        assert api_token_check(raw) is not None  # held now

        with django_capture_on_commit_callbacks(execute=True):
            change(token, store)
            # Another process reads the row before this transaction commits
            # and keeps it under the generation set by the change.
            tokens._held[api_token_hash(raw)] = (
                token,
                cache.get(tokens.GENERATION_KEY),
            )

        found = api_token_check(raw)
        after = ApiToken.objects.select_related("store").filter(pk=token.pk).first()
        if after is None or not after.is_active or not after.store.is_active:
            assert found is None
        else:  # still valid: read again, with the store as it is now
            assert found is not token
            assert found.store.partner_id == after.store.partner_id is not None

    def test_a_lost_generation_reads_again(self, store, django_assert_num_queries):
        _token, raw = api_token_create(store=store, name="Till 2")
        api_token_check(raw)
        cache.clear()  # evicted or flushed
        with django_assert_num_queries(1):
            assert api_token_check(raw) is not None


def test_every_way_to_change_a_token_or_store_is_listed():
    # The writes of members.services that touch tokens or stores: a new one
    # must be added to CHANGES above (and reach the kept tokens).
    import inspect

    from members.services import stores as store_services
    from members.services import tokens as token_services

    writers = {
        name
        for module in (store_services, token_services)
        for name, f in inspect.getmembers(module, inspect.isfunction)
        if f.__module__ == module.__name__
        and not name.startswith("_")
        and name not in {"api_token_check", "api_token_hash", "api_tokens_changed"}
    }
    covered = {
        "api_token_revoke",
        "api_token_delete",
        "store_save",
        "store_delete",
        "partner_create",
        "partner_save",
    }
    # Creating adds a token or store no process holds; the rest are above.
    new = {"api_token_create", "store_get_or_create"}
    assert writers - covered == new, writers - covered
