"""AdjustmentRequest moved from members to rewards with its table (rewards
0013): the goodwill adjustment of a complaint points at it there. The foreign
key's table and constraint do not change, so this is a change of the migration
state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0012_delivery_claim"),
        ("rewards", "0013_points_from_members"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="complaint",
                    name="goodwill_adjustment",
                    field=models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="complaint",
                        to="rewards.adjustmentrequest",
                        verbose_name="goodwill adjustment",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
