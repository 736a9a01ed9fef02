"""Give Marketers and Managers the campaigns: write, schedule, send, cancel,
preview and read the figures (change permission), and delete drafts."""

import importlib

from django.db import migrations

CAMPAIGNS = [
    "campaigns.view_campaign",
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "campaigns.delete_campaign",
    "campaigns.view_campaignvariant",
    "campaigns.add_campaignvariant",
    "campaigns.change_campaignvariant",
    "campaigns.delete_campaignvariant",
    "campaigns.view_campaignrun",
    "campaigns.view_campaignrecipient",
]
GRANTS = {"Marketer": CAMPAIGNS, "Manager": CAMPAIGNS}


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
    dependencies = [
        ("campaigns", "0006_campaigns"),
        ("members", "0013_preferred_channel"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
