import rewards.models.ledger
from django.db import migrations


class Migration(migrations.Migration):
    """updated_at's new field class (auto_now that never goes back) is the
    same column: the state only, so that SQLite does not rebuild the table."""

    dependencies = [
        ("rewards", "0026_one_index_per_lookup"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="pointsaccount",
                    name="updated_at",
                    field=rewards.models.ledger.LatestTimeField(
                        auto_now=True, verbose_name="updated"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
