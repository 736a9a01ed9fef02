"""members 0023 seeds the interests list and moves the free-text interests
that match it (code, a name in any language, a synonym; any case) to the
picked interests; what matches nothing stays free text."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("members", "0025_interests")]
AFTER = [("members", "0026_interests_seed")]


@pytest.mark.django_db(transaction=True)
def test_upgrade_moves_matching_interests_and_keeps_the_rest():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Member = old.get_model("members", "Member")
    Member.objects.all().delete()
    texts = {
        1: ["Coffee", "books", "sweets"],  # English name, free text, synonym
        2: ["Кава", "чай"],  # Ukrainian names
        3: ["running"],
        4: [],
    }
    for n, interests in texts.items():
        Member.objects.create(
            card_number=f"2700000000{n}",
            phone=f"+38067000000{n}",
            referral_code=f"MIGR{n}",
            interests=interests,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Interest = new.get_model("members", "Interest")
    Member = new.get_model("members", "Member")
    coffee = Interest.objects.get(code="coffee")
    assert (coffee.name_uk, coffee.name_ru, coffee.name_ro, coffee.name_en) == (
        "Кава",
        "Кофе",
        "Cafea",
        "Coffee",
    )
    assert Interest.objects.count() >= 10
    result = {
        int(m.phone[-1]): (
            sorted(m.picked_interests.values_list("code", flat=True)),
            m.interests,
        )
        for m in Member.objects.all()
    }
    assert result == {
        1: (["coffee", "desserts"], ["books"]),
        2: (["coffee", "tea"], []),
        3: ([], ["running"]),
        4: ([], []),
    }

    # Back to the latest state for the tests that follow.
    Member.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
