"""Bonus settings, referrals, staff controls, adjustment requests and anomaly
flags now belong to rewards (rewards 0013 took them over with their tables):
they leave members' migration state; the database does not change.

The foreign keys from other apps that pointed at them were moved first
(campaigns 0013). The content types moved in rewards 0013; moving them again
here merges the rows post_migrate may have recreated under members on a
database migrated half-way (a no-op otherwise).
"""

import importlib

from django.db import migrations


def content_types_move(apps, schema_editor):
    importlib.import_module(
        "rewards.migrations.0013_points_from_members"
    ).content_types_move(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0013_complaint_adjustment_in_rewards"),
        ("members", "0017_cache_table"),
        ("rewards", "0013_points_from_members"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AdjustmentRequest"),
                migrations.DeleteModel(name="AnomalyFlag"),
                migrations.DeleteModel(name="BonusSettings"),
                migrations.DeleteModel(name="Referral"),
                migrations.DeleteModel(name="StaffControls"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, migrations.RunPython.noop),
    ]
