"""Make the staff groups hold exactly the rights loyalty_site/roles.py gives them.

`migrate` does the same after every run; this command is for a database whose
groups were edited by hand, and `--check` (exit 1 on any difference) for CI or
a health check.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from loyalty_site.roles import roles_sync, roles_sync_changed, roles_sync_lines


class Command(BaseCommand):
    help = _(
        "Give the staff groups (Cashier, Manager, Marketer) exactly the permissions "
        "listed in loyalty_site/roles.py; print what changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help=_("Change nothing; list the differences and exit 1 if there are any."),
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help=_("The database to sync (default: %(default)s)."),
        )

    def handle(self, *args, check: bool, database: str, **options):
        result = roles_sync(
            using=database, verbosity=options["verbosity"], dry_run=check
        )
        for line in roles_sync_lines(result):
            self.stdout.write(line)
        if not roles_sync_changed(result):
            self.stdout.write(_("The staff groups match loyalty_site/roles.py."))
        elif check:
            raise CommandError(
                _(
                    "The staff groups differ from loyalty_site/roles.py: "
                    "run `manage.py sync_roles`."
                ),
                returncode=1,
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(_("Staff groups synced with loyalty_site/roles.py."))
            )
