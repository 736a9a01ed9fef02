"""Recompute the analytics snapshots for a range of days, from the source rows."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.services.period_stats import period_stats_prefill
from analytics.services.snapshots import local_today, snapshots_refresh_range


def progress_bar(stdout, width: int = 30):
    """A callback(done, total) that redraws a one-line bar on the terminal."""
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        elapsed = time.monotonic() - started
        stdout.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{elapsed:.1f} s",
            ending="\n" if done >= total else "",
        )
        stdout.flush()

    return show


class Command(BaseCommand):
    help = (
        "Recompute the analytics snapshots (daily, member months, cohorts, program "
        "state) for --from DATE --to DATE (default: from the first purchase to "
        "today). Safe to run at any time: each month is rewritten in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="day_from", help="YYYY-MM-DD")
        parser.add_argument("--to", dest="day_to", help="YYYY-MM-DD (default today)")

    def handle(self, *args, day_from=None, day_to=None, **options):
        from django.db.models import Min

        from members.models import Member
        from rewards.models import Purchase

        try:
            end = dt.date.fromisoformat(day_to) if day_to else local_today()
            if day_from:
                start = dt.date.fromisoformat(day_from)
            else:
                first = [
                    Purchase.objects.aggregate(m=Min("occurred_at"))["m"],
                    Member.objects.aggregate(m=Min("enrolled_at"))["m"],
                ]
                first = [f for f in first if f is not None]
                start = timezone.localtime(min(first)).date() if first else end
        except ValueError as exc:
            raise CommandError(f"Give dates as YYYY-MM-DD: {exc}") from exc
        if start > end:
            raise CommandError("--from is after --to.")
        started = time.monotonic()
        self.stdout.write(f"Recomputing analytics snapshots {start} to {end}...")
        result = snapshots_refresh_range(
            day_from=start, day_to=end, progress=progress_bar(self.stdout)
        )
        period_stats_prefill()
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {time.monotonic() - started:.1f} s: {result.days} days "
                f"({result.daily_rows} daily rows), {len(result.months)} months "
                f"({result.member_month_rows} member-month rows), "
                f"{result.cohort_rows} cohort cells."
            )
        )
