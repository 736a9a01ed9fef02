"""Give the staff roles their rights on events and members-only pages: Managers
and Marketers write events and pages; Cashiers see events and their sign-ups so
they can check members in at the counter (check-in also needs the Counter right)."""

import importlib

from django.db import migrations

CASHIER = ["campaigns.view_event", "campaigns.view_eventrsvp"]
MARKETER = sorted(
    set(CASHIER)
    | {
        "campaigns.add_event",
        "campaigns.change_event",
        "campaigns.view_contentpage",
        "campaigns.add_contentpage",
        "campaigns.change_contentpage",
    }
)
MANAGER = sorted(set(MARKETER) | {"campaigns.delete_contentpage"})
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
        ("campaigns", "0002_events"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
