"""Give Managers the staff controls, the adjustment approval queue, the audit
log and anonymization. Cashiers and Marketers get none of them."""

import importlib

from django.db import migrations

MANAGER = [
    "members.view_staffcontrols",
    "members.change_staffcontrols",
    "members.exempt_daily_limits",
    "members.view_adjustmentrequest",
    "members.approve_adjustmentrequest",
    "members.view_staffauditevent",
    "members.view_membererasure",
    "members.add_membererasure",
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
    dependencies = [("members", "0006_staff_controls_audit_privacy")]

    operations = [migrations.RunPython(grant, revoke)]
