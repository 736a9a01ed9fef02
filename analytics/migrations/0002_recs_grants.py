"""Staff rights on RFM scores, recommendation tables and reward categories.

Managers and Marketers see the RFM page and may turn a segment into a campaign
segment (campaigns.add_segment); Managers also map rewards to categories.
Cashiers get none of these tables: the Member 360 page shows them a member's
scores through its own permission check (members.view_member + rewards.view_purchase).
"""

import importlib

from django.db import migrations

MARKETER = [
    "analytics.view_memberrfm",
    "analytics.view_itemstat",
    "analytics.view_copurchase",
    "analytics.view_rewardcategory",
    "campaigns.view_segment",
    "campaigns.add_segment",
]
MANAGER = sorted(
    set(MARKETER)
    | {
        "analytics.add_rewardcategory",
        "analytics.change_rewardcategory",
        "analytics.delete_rewardcategory",
    }
)
GRANTS = {"Manager": MANAGER, "Marketer": MARKETER}


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
        ("analytics", "0001_recs"),
        ("campaigns", "0001_segments_messages"),
        ("members", "0005_staff_groups_new_models"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
