"""Give the staff roles their rights on paid memberships and partners.

Cashiers sell memberships at the Counter and see plans and subscriptions;
Managers edit plans and partners, cancel subscriptions and see the settlement;
Marketers see all of it."""

import importlib

from django.db import migrations

CASHIER = [
    "rewards.view_membershipplan",
    "rewards.view_subscription",
    "rewards.add_subscription",  # sell at the Counter
]
MARKETER = [
    "rewards.view_membershipplan",
    "rewards.view_subscription",
    "rewards.view_subscriptionevent",
    "members.view_partner",
]
MANAGER = sorted(
    set(CASHIER + MARKETER)
    | {
        "rewards.add_membershipplan",
        "rewards.change_membershipplan",
        "rewards.change_subscription",  # the cancel action
        "members.add_partner",
        "members.change_partner",
    }
)
GRANTS = {"Cashier": CASHIER, "Manager": MANAGER, "Marketer": MARKETER}


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    importlib.import_module("members.migrations.0002_staff_groups")._create_permissions(
        apps, using
    )
    _permissions = importlib.import_module(
        "members.migrations.0005_staff_groups_new_models"
    )._permissions
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*_permissions(apps, using, perms))


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    _permissions = importlib.import_module(
        "members.migrations.0005_staff_groups_new_models"
    )._permissions
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group:
            group.permissions.remove(*_permissions(apps, using, perms))


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0009_partners"),
        ("rewards", "0010_memberships_partner_rewards"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
