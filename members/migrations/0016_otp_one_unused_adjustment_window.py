from django.db import migrations, models
from django.db.models import Max


def void_all_but_newest(apps, schema_editor):
    """Before the constraint: a member with several unused codes (sent by racing
    sign-ups) keeps only the newest; the others are used up, as otp_send does."""
    OneTimeCode = apps.get_model("members", "OneTimeCode")
    newest = (
        OneTimeCode.objects.filter(used_at__isnull=True)
        .values("member_id")
        .annotate(keep=Max("pk"))
        .values_list("keep", flat=True)
    )
    OneTimeCode.objects.filter(used_at__isnull=True).exclude(
        pk__in=list(newest)
    ).update(used_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0015_audit_actions_areas"),
    ]

    operations = [
        migrations.RunPython(void_all_but_newest, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="onetimecode",
            constraint=models.UniqueConstraint(
                condition=models.Q(("used_at__isnull", True)),
                fields=("member",),
                name="one_time_code_one_unused_per_member",
            ),
        ),
        migrations.AlterField(
            model_name="staffcontrols",
            name="adjustment_approval_threshold",
            field=models.PositiveIntegerField(
                default=500,
                help_text=(
                    "Points (added or taken) one staff member may adjust for one "
                    "member in 24 hours without approval; an adjustment beyond that "
                    "waits for another Manager's approval."
                ),
                verbose_name="adjustment approval threshold",
            ),
        ),
    ]
