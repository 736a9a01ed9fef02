"""Existing members get a source from what is known of them: a consent given
by import → import; enrolled at a partner's store → partner; at one of our
stores → till; with a web login and no store → online; otherwise other.
Referrals are filled by rewards' own migration (the referral rows are there)."""

from django.db import migrations
from django.db.models import Q


def fill(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    rules = [
        ("import", Q(email_consent_source="import") | Q(sms_consent_source="import")),
        ("partner", Q(enrolled_store__partner__isnull=False)),
        ("till", Q(enrolled_store__isnull=False)),
        ("online", Q(user__isnull=False)),
    ]
    for source, where in rules:  # first rule wins: each sees the rest only
        Member.objects.filter(where, source="other").update(source=source)


class Migration(migrations.Migration):
    dependencies = [("members", "0027_member_sources")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
