"""Check every ledger invariant over the whole database and list the offenders.

Exit status 0 when the ledger is exact, 1 when any invariant is broken, so it can
gate a restore (docs/operations.md) or run from cron with alerting on failure.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from rewards.models import LedgerEntry, PointsAccount, Purchase
from rewards.selectors.invariants import LEDGER_CHECKS


class Command(BaseCommand):
    help = _(
        "Check every points ledger invariant over the whole database; exit 1 and "
        "list the offenders when any is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=1000,
            help=_("List at most this many offenders per check (all are counted)."),
        )

    def handle(self, *args, limit: int, **options):
        started = time.monotonic()
        self.stdout.write(
            _(
                "Checking %(accounts)s accounts, %(entries)s ledger entries and "
                "%(purchases)s purchases…"
            )
            % {
                "accounts": PointsAccount.objects.count(),
                "entries": LedgerEntry.objects.count(),
                "purchases": Purchase.objects.count(),
            }
        )
        broken = 0
        for name, check in LEDGER_CHECKS:
            t0 = time.monotonic()
            found = 0
            for violation in check():
                found += 1
                if found <= limit:
                    self.stdout.write(
                        f"  {violation.check}: {_('card')} {violation.card_number}: "
                        f"{violation.detail}"
                    )
            broken += found
            self.stdout.write(
                _("[%(name)s] %(found)s offenders (%(seconds).1f s)")
                % {"name": name, "found": found, "seconds": time.monotonic() - t0}
            )
        elapsed = time.monotonic() - started
        if broken:
            raise CommandError(
                _("Ledger check FAILED: %(count)s violations in %(seconds).1f s.")
                % {"count": broken, "seconds": elapsed},
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Ledger OK: every invariant holds (%(seconds).1f s).")
                % {"seconds": elapsed}
            )
        )
