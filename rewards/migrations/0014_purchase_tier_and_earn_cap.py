"""The program's optional cap on the points of one purchase, and on each
purchase the cap it was recorded under and the member's tier when they bought
(for the reward rate per tier). Purchases recorded before get the tier from
the tier history: the tier the member had just before the purchase was
recorded (the move it caused comes after it)."""

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


def purchase_tiers_fill(apps, schema_editor):
    Purchase = apps.get_model("rewards", "Purchase")
    TierHistory = apps.get_model("rewards", "TierHistory")
    alias = schema_editor.connection.alias
    before = (
        TierHistory.objects.using(alias)
        .filter(
            member_id=models.OuterRef("member_id"),
            created_at__lt=models.OuterRef("created_at"),
        )
        .order_by("-created_at", "-id")
        .values("to_tier_id")[:1]
    )
    Purchase.objects.using(alias).filter(tier__isnull=True).update(
        tier_id=models.Subquery(before)
    )


class Migration(migrations.Migration):

    dependencies = [
        ('rewards', '0013_points_from_members'),
    ]

    operations = [
        migrations.AddField(
            model_name='programsettings',
            name='earn_cap_percent',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='One purchase earns points worth at most this percentage of its amount, applied after every multiplier, bonus and promotion; empty = no cap.', max_digits=5, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0.01')), django.core.validators.MaxValueValidator(Decimal('100'))], verbose_name='cap on the points of one purchase (% of its amount)'),
        ),
        migrations.AddField(
            model_name='purchase',
            name='points_cap_per_unit',
            field=models.DecimalField(blank=True, decimal_places=6, max_digits=14, null=True),
        ),
        migrations.AddField(
            model_name='purchase',
            name='tier',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='rewards.tier', verbose_name='tier'),
        ),
        migrations.AddConstraint(
            model_name='programsettings',
            constraint=models.CheckConstraint(condition=models.Q(('earn_cap_percent__isnull', True), models.Q(('earn_cap_percent__gt', 0), ('earn_cap_percent__lte', 100)), _connector='OR'), name='program_earn_cap_percent_range'),
        ),
        migrations.RunPython(purchase_tiers_fill, migrations.RunPython.noop),
    ]
