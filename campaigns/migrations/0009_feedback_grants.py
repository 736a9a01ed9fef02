"""Give the staff roles their rights on feedback: Cashiers log complaints heard at
the counter (add only: they do not work the queue); Managers and Marketers work
the complaints queue and run surveys. Goodwill points still need the Manager's
right to adjust points (rewards.adjust_points) and its approval threshold."""

import importlib

from django.db import migrations

CASHIER = ["campaigns.add_complaint"]
QUEUE = [
    "campaigns.view_complaint",
    "campaigns.change_complaint",
    "campaigns.view_complaintmessage",
    "campaigns.view_survey",
    "campaigns.add_survey",
    "campaigns.change_survey",
    "campaigns.view_surveyresponse",
]
MANAGER = sorted(set(CASHIER + QUEUE))
MARKETER = sorted(QUEUE)
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
        ("campaigns", "0008_feedback"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
