"""Give the staff roles their rights on stamp cards: Managers edit the programs,
everyone sees programs and cards (cards are written by the services only)."""

import importlib

from django.db import migrations

CASHIER = ["rewards.view_stampprogram", "rewards.view_stampcard"]
MARKETER = ["rewards.view_stampprogram", "rewards.view_stampcard"]
MANAGER = sorted(
    set(CASHIER + MARKETER)
    | {"rewards.add_stampprogram", "rewards.change_stampprogram"}
)
GRANTS = {"Cashier": CASHIER, "Manager": MANAGER, "Marketer": MARKETER}


def grant(apps, schema_editor):
    staff_groups = importlib.import_module("members.migrations.0005_staff_groups_new_models")
    using = schema_editor.connection.alias
    importlib.import_module("members.migrations.0002_staff_groups")._create_permissions(
        apps, using
    )
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*staff_groups._permissions(apps, using, perms))


def revoke(apps, schema_editor):
    staff_groups = importlib.import_module("members.migrations.0005_staff_groups_new_models")
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group:
            group.permissions.remove(*staff_groups._permissions(apps, using, perms))


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0005_staff_groups_new_models"),
        ("rewards", "0008_stamp_cards"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
