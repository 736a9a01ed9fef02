"""Staff rights on earning rules and points lots: Managers and Marketers run
promotions (and the simulator), everyone can read the lots behind a balance."""

import importlib

from django.db import migrations

_base = importlib.import_module("members.migrations.0005_staff_groups_new_models")

CASHIER = ["rewards.view_earningrule", "rewards.view_pointslot"]
MARKETER = [
    "rewards.view_earningrule",
    "rewards.add_earningrule",
    "rewards.change_earningrule",
    "rewards.view_pointslot",
]
MANAGER = MARKETER
GRANTS = {"Cashier": CASHIER, "Manager": MANAGER, "Marketer": MARKETER}


def grant(apps, schema_editor):
    _base.grant(apps, schema_editor, GRANTS)


def revoke(apps, schema_editor):
    _base.revoke(apps, schema_editor, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0006_earning_rules_and_points_lots"),
        ("members", "0005_staff_groups_new_models"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
