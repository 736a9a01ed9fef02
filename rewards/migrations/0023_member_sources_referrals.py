"""Members who joined with a friend's referral code (a Referral row, whatever
its status) came from a referral: their source and referrer, set where
members' own fill (members 0023) could not see the referral rows. An
imported member stays "import"."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    Referral = apps.get_model("rewards", "Referral")
    referrer = Referral.objects.filter(referee_id=OuterRef("pk")).values(
        "referrer_id"
    )[:1]
    Member.objects.filter(referral__isnull=False).exclude(source="import").update(
        source="referral", referred_by_id=Subquery(referrer)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0028_member_sources_fill"),
        ("rewards", "0022_online_payments"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
