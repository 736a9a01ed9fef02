"""Enroll members from a CSV file through member_enroll (members.imports)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from members.imports import member_columns, members_csv_read, members_import
from members.management.importing import ImportCommand
from members.models import Store


class Command(ImportCommand):
    @property
    def help(self) -> str:
        return (
            "Enroll members from a CSV file, or move them from an earlier loyalty "
            "program with their consents, opening balances and tiers (columns: "
            + ", ".join(member_columns())
            + "). A phone already enrolled is skipped (a re-run adds nothing); "
            "--dry-run reports what a run would do and writes nothing. "
            "Exit code 1 if a row failed."
        )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--store",
            required=True,
            help="code of the home store of rows without a store column",
        )

    def read(self, content: bytes):
        return members_csv_read(content)

    def run(self, rows, options, progress):
        store = Store.objects.filter(code__iexact=options["store"]).first()
        if store is None:
            raise CommandError(
                _("No store has the code “%(code)s”.") % {"code": options["store"]}
            )
        return members_import(
            rows, store=store, dry_run=options["dry_run"], progress=progress
        )
