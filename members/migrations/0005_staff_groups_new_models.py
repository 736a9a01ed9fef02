"""Give the staff roles their rights on the models added after 0002: rewards
catalog, vouchers, tiers, bonus settings and referrals."""

import importlib

from django.db import migrations

CASHIER = ["rewards.view_reward", "rewards.view_voucher", "rewards.view_tier"]
MARKETER = [
    "rewards.view_reward",
    "rewards.view_voucher",
    "rewards.view_tier",
    "rewards.view_tierhistory",
    "members.view_referral",
    "members.view_bonussettings",
]
MANAGER = sorted(
    set(CASHIER + MARKETER)
    | {
        "rewards.add_reward",
        "rewards.change_reward",
        "rewards.change_voucher",  # the cancel action
        "rewards.add_tier",
        "rewards.change_tier",
        "members.change_bonussettings",
        "members.change_referral",  # approve / refuse in the review queue
    }
)
GRANTS = {"Cashier": CASHIER, "Manager": MANAGER, "Marketer": MARKETER}


def _permissions(apps, using, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(
            Permission.objects.using(using).get(
                content_type__app_label=app_label, codename=codename
            )
        )
    return found


def grant(apps, schema_editor, grants=None):
    """Give each group its rights; later migrations call it with their own grants."""
    using = schema_editor.connection.alias
    importlib.import_module("members.migrations.0002_staff_groups")._create_permissions(
        apps, using
    )
    Group = apps.get_model("auth", "Group")
    for name, perms in (grants or GRANTS).items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*_permissions(apps, using, perms))


def revoke(apps, schema_editor, grants=None):
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    for name, perms in (grants or GRANTS).items():
        group = Group.objects.using(using).filter(name=name).first()
        if group:
            group.permissions.remove(*_permissions(apps, using, perms))


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_bonuses_referrals"),
        ("rewards", "0004_tiers"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
