"""Give Marketers and Managers delivery: the message log and the Outbox to read,
journeys and their texts to edit, the delivery settings (cap, quiet hours)."""

import importlib

from django.db import migrations

MARKETER = [
    "campaigns.view_message",
    "campaigns.view_outboxentry",
    "campaigns.view_journey",
    "campaigns.change_journey",
    "campaigns.add_journey",
    "campaigns.view_journeytext",
    "campaigns.add_journeytext",
    "campaigns.change_journeytext",
    "campaigns.delete_journeytext",
    "campaigns.view_deliverysettings",
    "campaigns.change_deliverysettings",
]
MANAGER = MARKETER
GRANTS = {"Marketer": MARKETER, "Manager": MANAGER}


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    importlib.import_module("members.migrations.0002_staff_groups")._create_permissions(
        apps, using
    )
    previous = importlib.import_module("members.migrations.0005_staff_groups_new_models")
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*previous._permissions(apps, using, perms))


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    previous = importlib.import_module("members.migrations.0005_staff_groups_new_models")
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group:
            group.permissions.remove(*previous._permissions(apps, using, perms))


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0010_delivery")]

    operations = [migrations.RunPython(grant, revoke)]
