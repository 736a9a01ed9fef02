"""Offline evaluation of "Recommended for you": hit rate at k against the
most-popular baseline on a time-split holdout (analytics.selectors.recommend_eval)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone

from analytics.selectors.recommend_eval import evaluation_table, recommend_evaluate


class Command(BaseCommand):
    help = (
        "Train on purchases before a cut date, test on the days after it: "
        "hit rate at k of our recommendations and of the most popular items."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cut",
            help="YYYY-MM-DD; default: HORIZON days before the last purchase",
        )
        parser.add_argument("--horizon", type=int, default=60, help="days, default 60")
        parser.add_argument(
            "--history", type=int, default=365, help="days before the cut, default 365"
        )
        parser.add_argument(
            "--k", default="1,3,5,10", help="comma-separated list, default 1,3,5,10"
        )
        parser.add_argument(
            "--min-baskets",
            type=int,
            default=2,
            help="baskets before the cut to be evaluated, default 2 (0: all)",
        )

    def handle(self, *args, cut, horizon, history, k, min_baskets, **options):
        from rewards.models import Purchase

        try:
            ks = tuple(sorted({int(x) for x in k.split(",") if x.strip()}))
        except ValueError:
            raise CommandError("--k must be whole numbers, e.g. 1,3,5") from None
        if not ks or min(ks) < 1 or horizon < 1 or history < 1:
            raise CommandError("--k, --horizon and --history must be at least 1.")
        if cut:
            try:
                day = dt.date.fromisoformat(cut)
            except ValueError:
                raise CommandError("--cut must be a date, YYYY-MM-DD.") from None
            cut_at = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        else:
            last = Purchase.objects.aggregate(at=Max("occurred_at"))["at"]
            if last is None:
                raise CommandError("No purchases to evaluate on.")
            cut_at = last - dt.timedelta(days=horizon)
        result = recommend_evaluate(
            cut=cut_at,
            ks=ks,
            history_days=history,
            horizon_days=horizon,
            min_baskets=min_baskets,
        )
        self.stdout.write(evaluation_table(result))
