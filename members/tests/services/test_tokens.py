"""Till API tokens: api_token_create, api_token_check and api_token_revoke."""

from __future__ import annotations

import hashlib

import pytest
from django.utils import translation

from members.models import ApiToken
from members.services import api_token_check, api_token_create, api_token_revoke

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
