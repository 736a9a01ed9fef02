"""Admins save through the services: every ModelAdmin of the four apps either
cannot write, or saves (and deletes) through its own methods, which call a
named service that writes the staff audit row. A new admin that falls back on
Django's default `obj.save()` / `queryset.delete()` fails here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db.models import ProtectedError
from django.test import RequestFactory
from django.urls import reverse

from analytics.models import StoreSales
from members.audit import StaffActor
from members.models import AuditAction, Partner, StaffAuditEvent, Store
from members.services import store_delete, store_save

pytestmark = pytest.mark.django_db

APPS = {"members", "rewards", "campaigns", "analytics"}

# Admins allowed to save through Django's default, each with its reason. Only
# pure configuration rows where a service would add nothing belong here; keep it
# short. (Empty today: even the settings rows save through services, for the
# audit row of who changed a limit or a rate.)
DEFAULT_SAVE_ALLOWED: dict[str, str] = {}


def _registered():
    return sorted(
        (
            (model._meta.label, model_admin)
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in APPS
        ),
        key=lambda pair: pair[0],
    )


def _overrides(model_admin, name: str) -> bool:
    return getattr(type(model_admin), name) is not getattr(admin.ModelAdmin, name)


def _all_read_only(model_admin, request) -> bool:
    fields = set(model_admin.get_fields(request))
    return fields <= set(model_admin.get_readonly_fields(request))


def _default_writers(registered, request) -> tuple[list[str], list[str]]:
    """The labels of the admins that save, and of those that delete, through
    Django's defaults."""
    default_saves, default_deletes = [], []
    for label, model_admin in registered:
        if label in DEFAULT_SAVE_ALLOWED:
            continue
        can_write = (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
        ) and not _all_read_only(model_admin, request)
        if can_write and not _overrides(model_admin, "save_model"):
            default_saves.append(label)
        if model_admin.has_delete_permission(request) and not (
            _overrides(model_admin, "delete_model")
            and _overrides(model_admin, "delete_queryset")
        ):
            default_deletes.append(label)
    return default_saves, default_deletes


@pytest.fixture
def su_request(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    return request


def test_every_admin_that_writes_saves_and_deletes_through_its_own_methods(
    su_request,
):
    default_saves, default_deletes = _default_writers(_registered(), su_request)
    assert default_saves == [], "save through a service in save_model"
    assert default_deletes == [], "delete through a service (or refuse deletes)"


def test_an_admin_on_djangos_defaults_is_caught(su_request):
    plain = admin.ModelAdmin(Store, admin.site)
    assert _default_writers([("members.Store", plain)], su_request) == (
        ["members.Store"],
        ["members.Store"],
    )


def test_the_walk_sees_the_admins_of_all_four_apps():
    labels = {label for label, _admin in _registered()}
    assert {label.split(".")[0] for label in labels} == APPS
    assert {"members.Store", "members.Partner", "members.User"} <= labels
    assert set(DEFAULT_SAVE_ALLOWED) <= labels


# --- the services behind them write the audit row ------------------------------------


@pytest.fixture
def su_client(client, admin_user, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(admin_user)
    return client


def _rows(model) -> list[tuple[str, str, dict]]:
    return list(
        StaffAuditEvent.objects.filter(object_type=model._meta.label_lower)
        .order_by("pk")
        .values_list("action", "object_id", "details")
    )


def test_store_added_changed_and_deleted_in_the_admin_are_audited(
    su_client, admin_user
):
    data = {
        "code": "lviv",
        "name": "Lviv Centre",
        "address": "Rynok 1",
        "timezone": "Europe/Kyiv",
        "is_active": "on",
    }
    su_client.post(reverse("admin:members_store_add"), data, REMOTE_ADDR="10.1.2.3")
    store = Store.objects.get(code="lviv")
    su_client.post(
        reverse("admin:members_store_change", args=[store.pk]),
        {**data, "address": "Rynok 2"},
    )
    su_client.post(
        reverse("admin:members_store_delete", args=[store.pk]), {"post": "yes"}
    )
    assert not Store.objects.filter(code="lviv").exists()
    pk = str(store.pk)
    assert _rows(Store) == [
        (AuditAction.RECORD_ADDED, pk, {}),
        (AuditAction.RECORD_CHANGED, pk, {"fields": ["address"]}),
        (AuditAction.RECORD_DELETED, pk, {}),
    ]
    first = StaffAuditEvent.objects.filter(object_type="members.store").earliest("pk")
    assert (first.actor, first.ip) == (admin_user, "10.1.2.3")


def test_partner_saved_in_the_admin_is_audited(su_client):
    su_client.post(
        reverse("admin:members_partner_add"),
        {
            "name": "Cafe",
            "contact_email": "",
            "contact_phone": "",
            "point_value": "0.01",
            "is_active": "on",
        },
    )
    partner = Partner.objects.get(name="Cafe")
    assert _rows(Partner) == [(AuditAction.RECORD_ADDED, str(partner.pk), {})]


def test_a_protected_store_is_not_deleted_and_leaves_no_audit_row(admin_user, store):
    StoreSales.objects.create(
        store=store, day=dt.date(2026, 1, 5), total=Decimal("100.00"), receipts=3
    )
    with pytest.raises(ProtectedError):
        store_delete(store=store, actor=StaffActor(user=admin_user))
    assert Store.objects.filter(pk=store.pk).exists()
    assert _rows(Store) == []


def test_services_called_without_an_actor_write_no_audit_row():
    store_save(store=Store(code="seed", name="Seed", timezone="Europe/Kyiv"))
    assert _rows(Store) == []
