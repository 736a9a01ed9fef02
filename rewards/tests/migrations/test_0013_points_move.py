"""rewards 0013, campaigns 0013 and members 0018 move BonusSettings, Referral,
StaffControls, AdjustmentRequest and AnomalyFlag from members to rewards with
their tables: rows written under members read back through the rewards models,
and the content types move, so the permissions and the groups holding them
stay as they were."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.models import Complaint
from rewards.models import (
    AdjustmentRequest,
    AdjustmentStatus,
    AnomalyFlag,
    AnomalyRule,
    BonusSettings,
    Referral,
    ReferralStatus,
    StaffControls,
)

BEFORE = [
    ("members", "0017_cache_table"),
    ("rewards", "0012_program_purchase_dates"),
    ("campaigns", "0012_delivery_claim"),
]
AFTER = [
    ("members", "0018_points_to_rewards"),
    ("rewards", "0013_points_from_members"),
    ("campaigns", "0013_complaint_adjustment_in_rewards"),
]
MOVED = (
    "adjustmentrequest",
    "anomalyflag",
    "bonussettings",
    "referral",
    "staffcontrols",
)


@pytest.fixture
def before_the_move():
    """The database at the migrations before the move, the staff groups as the
    migrations made them; back at the latest migrations afterwards."""
    from conftest import _staff_groups_ensure

    _staff_groups_ensure()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    ContentType.objects.clear_cache()
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()


def _forward(*, to_latest: bool = False) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes() if to_latest else AFTER)
    ContentType.objects.clear_cache()


def _old_rows(old) -> dict[str, int]:
    """One row of each moved model, written through the models as members had them."""
    Member = old.get_model("members", "Member")
    User = old.get_model("members", "User")
    referrer = Member.objects.create(
        card_number="27000000001", phone="+380670000001", referral_code="MOVEA"
    )
    referee = Member.objects.create(
        card_number="27000000002", phone="+380670000002", referral_code="MOVEB"
    )
    cashier = User.objects.create(username="cashier-before-the-move")
    old.get_model("members", "BonusSettings").objects.create(pk=1, welcome_points=7)
    old.get_model("members", "StaffControls").objects.create(
        pk=1, adjustment_approval_threshold=123
    )
    referral = old.get_model("members", "Referral").objects.create(
        referrer=referrer,
        referee=referee,
        referee_phone=referee.phone,
        status="review",
        review_note="Same last name",
    )
    adjustment = old.get_model("members", "AdjustmentRequest").objects.create(
        member=referee,
        points=-40,
        reason="Goodwill",
        requested_by=cashier,
        idempotency_key="move-test",
    )
    flag = old.get_model("members", "AnomalyFlag").objects.create(
        subject_kind="member",
        member=referee,
        rule="large_adjustment",
        day=dt.date(2026, 3, 10),
        details={"largest": 5000},
    )
    complaint = old.get_model("campaigns", "Complaint").objects.create(
        member=referee, topic="service", goodwill_adjustment=adjustment
    )
    return {
        "referrer": referrer.pk,
        "referee": referee.pk,
        "cashier": cashier.pk,
        "referral": referral.pk,
        "adjustment": adjustment.pk,
        "flag": flag.pk,
        "complaint": complaint.pk,
    }


# One migration cycle for what can share it: going back before the move and
# forward again costs most of this module's time (every later migration of
# every app is unapplied and reapplied).
@pytest.mark.django_db(transaction=True)
def test_the_move_carries_rows_content_types_and_permissions_and_reverses(
    before_the_move,
):
    """Rows written under members, and the content types with the permissions
    the groups hold, move to rewards; back before the move each content type
    keeps its row; forward again, the rows read back through today's models."""
    ids = _old_rows(before_the_move)
    old_types = {
        ct.model: ct.pk
        for ct in ContentType.objects.filter(app_label="members", model__in=MOVED)
    }
    assert set(old_types) == set(MOVED)
    approve = Permission.objects.get(
        content_type__app_label="members", codename="approve_adjustmentrequest"
    )
    assert Group.objects.get(name="Manager").permissions.filter(pk=approve.pk).exists()

    _forward()

    new_types = {
        ct.model: ct.pk
        for ct in ContentType.objects.filter(app_label="rewards", model__in=MOVED)
    }
    assert new_types == old_types
    assert not ContentType.objects.filter(app_label="members", model__in=MOVED)
    approve = Permission.objects.get(pk=approve.pk)
    assert approve.content_type.app_label == "rewards"
    assert Group.objects.get(name="Manager").permissions.filter(pk=approve.pk).exists()

    # The move reverses: each content type keeps its row.
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    ContentType.objects.clear_cache()
    back = dict(
        ContentType.objects.filter(app_label="members", model__in=MOVED).values_list(
            "model", "pk"
        )
    )
    assert back == old_types
    assert not ContentType.objects.filter(app_label="rewards", model__in=MOVED)

    # Read through today's models, so at today's schema (later migrations add
    # columns to the moved tables).
    _forward(to_latest=True)
    assert ContentType.objects.get_for_model(AdjustmentRequest).pk == (
        old_types["adjustmentrequest"]
    )
    assert BonusSettings.objects.get().welcome_points == 7
    assert StaffControls.objects.get().adjustment_approval_threshold == 123
    referral = Referral.objects.get(pk=ids["referral"])
    assert (referral.referrer_id, referral.referee_id) == (
        ids["referrer"],
        ids["referee"],
    )
    assert referral.status == ReferralStatus.REVIEW
    assert referral.review_note == "Same last name"
    adjustment = AdjustmentRequest.objects.get(pk=ids["adjustment"])
    assert adjustment.status == AdjustmentStatus.PENDING
    assert (adjustment.points, adjustment.requested_by_id) == (-40, ids["cashier"])
    flag = AnomalyFlag.objects.get(pk=ids["flag"])
    assert flag.rule == AnomalyRule.LARGE_ADJUSTMENT
    assert flag.details == {"largest": 5000}
    complaint = Complaint.objects.get(pk=ids["complaint"])
    assert complaint.goodwill_adjustment == adjustment
    assert adjustment.complaint == complaint


@pytest.mark.django_db(transaction=True)
def test_content_types_recreated_on_a_half_migrated_database_are_dropped(
    before_the_move,
):
    """post_migrate after `migrate rewards` alone would find the models in both
    apps and make their content types again under members, with fresh
    permissions. members 0018 drops those; the moved rows, with the rights the
    groups hold, stay under rewards."""
    change = Permission.objects.get(
        content_type__app_label="members", codename="change_referral"
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("rewards", "0013_points_from_members")])
    # What post_migrate would add for the members state, which still has them.
    stale = ContentType.objects.create(app_label="members", model="referral")
    stale_change = Permission.objects.create(
        content_type=stale, codename="change_referral", name="Can change referral"
    )

    _forward()

    assert not ContentType.objects.filter(app_label="members", model__in=MOVED)
    assert not Permission.objects.filter(pk=stale_change.pk).exists()
    change = Permission.objects.get(pk=change.pk)
    assert change.content_type.app_label == "rewards"
    assert Group.objects.get(name="Manager").permissions.filter(pk=change.pk).exists()
