"""Staff roles as auth Groups: Cashier, Manager, Marketer.

Permissions are normally created by a post_migrate handler, i.e. after every
migration has run, so this migration creates them itself first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CASHIER = [
    "members.view_member",
    "members.add_member",
    "members.view_store",
    "rewards.add_purchase",  # also the right to use the Counter
    "rewards.view_purchase",
    "rewards.view_purchaseline",
    "rewards.add_purchasereturn",
    "rewards.view_purchasereturn",
    "rewards.add_redemption",
    "rewards.view_redemption",
    "rewards.view_ledgerentry",
    "rewards.view_pointsaccount",
]

MANAGER = CASHIER + [
    "members.change_member",
    "rewards.adjust_points",
    "rewards.view_programsettings",
    "rewards.change_programsettings",
    "members.add_store",
    "members.change_store",
    "members.add_apitoken",
    "members.view_apitoken",
    "members.change_apitoken",
    "members.delete_apitoken",
    "members.view_consentevent",
]

MARKETER = [
    "members.view_member",
    "members.view_store",
    "rewards.view_ledgerentry",
    "members.view_consentevent",
]

GROUPS = {"Cashier": CASHIER, "Manager": MANAGER, "Marketer": MARKETER}


def _create_permissions(apps, using):
    for app_config in apps.get_app_configs():
        # Migration-state app configs have no models module; create_permissions
        # skips such apps unless told otherwise.
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        create_permissions(app_config, verbosity=0, apps=apps, using=using)
        app_config.models_module = previous


def groups_create(apps, schema_editor):
    using = schema_editor.connection.alias
    _create_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.using(using).get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)


def groups_delete(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("members", "0001_initial"),
        ("rewards", "0001_initial"),
    ]

    operations = [migrations.RunPython(groups_create, groups_delete)]
