"""Staff rights on segments: Marketers and Managers build, upload and delete
them; Cashiers get none (a segment lists members with their phones)."""

import importlib

from django.db import migrations

_base = importlib.import_module("members.migrations.0005_staff_groups_new_models")

MARKETER = [
    "campaigns.view_segment",
    "campaigns.add_segment",
    "campaigns.change_segment",
    "campaigns.delete_segment",
    "campaigns.view_segmentstaticmember",
]
MANAGER = MARKETER
GRANTS = {"Manager": MANAGER, "Marketer": MARKETER}


def grant(apps, schema_editor):
    _base.grant(apps, schema_editor, GRANTS)


def revoke(apps, schema_editor):
    _base.revoke(apps, schema_editor, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_segments"),
        ("members", "0005_staff_groups_new_models"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
