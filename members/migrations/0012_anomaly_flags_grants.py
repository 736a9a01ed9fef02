"""Give Managers the anomaly flags (to review them). Cashiers and Marketers get
none: a cashier must not see that their own activity is being watched."""

import importlib

from django.db import migrations

MANAGER = [
    "members.view_anomalyflag",
    "members.change_anomalyflag",
]
GRANTS = {"Manager": MANAGER}


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
    dependencies = [("members", "0011_anomaly_flags")]

    operations = [migrations.RunPython(grant, revoke)]
