"""Bonus settings, referrals, staff controls, adjustment requests and anomaly
flags now belong to rewards (rewards 0013 took them over with their tables):
they leave members' migration state; the database does not change.

The foreign keys from other apps that pointed at them were moved first
(campaigns 0013). The content types moved in rewards 0013; this drops the
rows post_migrate may have made again under members on a database migrated
half-way (a no-op otherwise).
"""

from django.db import migrations

MOVED_MODELS = (
    "adjustmentrequest",
    "anomalyflag",
    "bonussettings",
    "referral",
    "staffcontrols",
)


def stale_content_types_delete(apps, schema_editor):
    """The moved models' content types under members that post_migrate may have
    made again on a database migrated half-way (rewards 0013 alone): the real
    ones, with the rights groups hold, are under rewards since rewards 0013.
    A no-op otherwise."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    for model in MOVED_MODELS:
        if types.filter(app_label="rewards", model=model).exists():
            types.filter(app_label="members", model=model).delete()


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
        migrations.RunPython(stale_content_types_delete, migrations.RunPython.noop),
    ]
