"""members 0023 and rewards 0023 give every existing member a source from what
is known: an import consent, a partner's store, one of our stores, a web login,
a referral row (with its referrer); nothing known → other."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("members", "0026_interests_seed"), ("rewards", "0022_online_payments")]
AFTER = [
    ("members", "0028_member_sources_fill"),
    ("rewards", "0023_member_sources_referrals"),
]


@pytest.mark.django_db(transaction=True)
def test_upgrade_fills_every_members_source():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Member = old.get_model("members", "Member")
    Store = old.get_model("members", "Store")
    Partner = old.get_model("members", "Partner")
    User = old.get_model("members", "User")
    Referral = old.get_model("rewards", "Referral")
    own = Store.objects.create(code="own", name="Own")
    partner = Store.objects.create(
        code="partner", name="Partner shop", partner=Partner.objects.create(name="P")
    )
    made = {}
    for n, (name, extra) in enumerate(
        [
            ("till", {"enrolled_store": own}),
            ("partner", {"enrolled_store": partner}),
            ("import", {"enrolled_store": own, "sms_consent_source": "import"}),
            ("online", {"user": User.objects.create(username="web@example.com")}),
            ("other", {}),
            ("referral", {"enrolled_store": own}),
            ("imported_referral", {"email_consent_source": "import"}),
        ]
    ):
        made[name] = Member.objects.create(
            card_number=f"2700000000{n}",
            phone=f"+38067000000{n}",
            referral_code=f"MIGR{n}",
            **extra,
        ).pk
    for name in ("referral", "imported_referral"):
        Referral.objects.create(
            referrer_id=made["till"], referee_id=made[name], referee_phone="x"
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    rows = {
        m.pk: (m.source, m.referred_by_id)
        for m in new.get_model("members", "Member").objects.all()
    }
    assert {name: rows[pk] for name, pk in made.items()} == {
        "till": ("till", None),
        "partner": ("partner", None),
        "import": ("import", None),
        "online": ("online", None),
        "other": ("other", None),
        "referral": ("referral", made["till"]),
        "imported_referral": ("import", None),
    }

    # Back to the latest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
