"""Managers and Marketers see the analytics dashboards. Managers enter the
stores' total sales (for participation) and both enter marketing spend."""

import importlib

from django.db import migrations

DASHBOARD = ["analytics.view_dashboard"]
SPEND = [
    "analytics.view_marketingspend",
    "analytics.add_marketingspend",
    "analytics.change_marketingspend",
    "analytics.delete_marketingspend",
]
SALES = [
    "analytics.view_storesales",
    "analytics.add_storesales",
    "analytics.change_storesales",
    "analytics.delete_storesales",
]
GRANTS = {
    "Manager": DASHBOARD + SPEND + SALES,
    "Marketer": DASHBOARD + SPEND + ["analytics.view_storesales"],
}


def grant(apps, schema_editor):
    importlib.import_module("members.migrations.0005_staff_groups_new_models").grant(
        apps, schema_editor, GRANTS
    )


def revoke(apps, schema_editor):
    importlib.import_module("members.migrations.0005_staff_groups_new_models").revoke(
        apps, schema_editor, GRANTS
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_analytics_snapshots"),
        ("members", "0012_anomaly_flags_grants"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
