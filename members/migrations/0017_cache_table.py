"""The table of Django's database cache, the default cache (loyalty_site.settings).

What `manage.py createcachetable` does, as a migration, so that `migrate` (make
run, production, the test database of pytest-django) leaves no cache without
its table. It creates the default table even when CACHE_URL names Redis, so that
unsetting CACHE_URL later needs no extra step; it skips a table that exists.
"""

from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.core.management.commands.createcachetable import (
    Command as CreateCacheTable,
)
from django.db import migrations

DEFAULT_TABLE = "loyalty_cache"


def cache_tables_create(apps, schema_editor):
    tables = {getattr(settings, "DB_CACHE_TABLE", DEFAULT_TABLE)}
    tables |= {
        config["LOCATION"]
        for config in settings.CACHES.values()
        if config["BACKEND"] == f"{DatabaseCache.__module__}.DatabaseCache"
    }
    command = CreateCacheTable()
    command.verbosity = 0
    for table in sorted(tables):
        command.create_table(schema_editor.connection.alias, table, dry_run=False)


class Migration(migrations.Migration):
    dependencies = [("members", "0016_otp_one_unused_adjustment_window")]

    operations = [
        migrations.RunPython(cache_tables_create, migrations.RunPython.noop),
    ]
