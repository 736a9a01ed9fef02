from django.conf import settings
from django.db import migrations


def create_row(apps, schema_editor):
    ProgramSettings = apps.get_model("rewards", "ProgramSettings")
    ProgramSettings.objects.get_or_create(pk=1, defaults={"currency": settings.LOYALTY_CURRENCY})


class Migration(migrations.Migration):
    """The single program-settings row exists from the start, so no request races to create it."""

    dependencies = [("rewards", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
