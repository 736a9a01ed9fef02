"""members 0016 adds "one unused code per member": a database that racing
sign-ups left with several unused codes for a member must still migrate, each
member keeping only the newest code valid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("members", "0015_audit_actions_areas")]
AFTER = [("members", "0016_otp_one_unused_adjustment_window")]


@pytest.mark.django_db(transaction=True)
def test_upgrade_keeps_only_the_newest_unused_code_of_each_member():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Member = old.get_model("members", "Member")
    OneTimeCode = old.get_model("members", "OneTimeCode")
    now = timezone.now()
    codes = {}
    for n, count in ((1, 3), (2, 1)):
        member = Member.objects.create(
            card_number=f"2700000000{n}",
            phone=f"+38067000000{n}",
            referral_code=f"MIGR{n}",
        )
        codes[n] = [
            OneTimeCode.objects.create(
                member=member,
                purpose="claim",
                channel="sms",
                destination=member.phone,
                code_hash="x",
                created_at=now - dt.timedelta(minutes=10 - i),
                expires_at=now + dt.timedelta(minutes=10),
            ).pk
            for i in range(count)
        ]
    used_before = OneTimeCode.objects.filter(used_at__isnull=False).count()

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    unused = set(
        new.get_model("members", "OneTimeCode")
        .objects.filter(used_at__isnull=True)
        .values_list("pk", flat=True)
    )

    assert used_before == 0
    assert unused == {codes[1][-1], codes[2][-1]}

    # Back to the latest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
