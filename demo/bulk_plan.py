"""The calendar and the members of the large demo data set, planned before they
are written (demo.bulk)."""

from __future__ import annotations

import bisect
import datetime as dt
import math

from demo.bulk_data import (
    CHURN_SHARE,
    HOURS,
    KYIV,
    LAUNCH_SHARE,
    LOYAL_SHARE,
    SEASON,
    SEGMENTS,
    WEEKDAY,
)


class BulkPlanning:
    """Plans the calendar and the members; BulkSeed writes them."""

    def _calendar(self) -> None:
        """Local days of the period with cumulative purchase weights."""
        first = self.start.astimezone(KYIV).date()
        last = self.end.astimezone(KYIV).date()
        self.days: list[dt.date] = []
        self.cum: list[float] = []
        total = 0.0
        day = first
        while day <= last:
            total += SEASON[day.month] * WEEKDAY[day.weekday()]
            self.days.append(day)
            self.cum.append(total)
            day += dt.timedelta(days=1)

    def _day_index(self, moment: dt.datetime) -> int:
        return (moment.astimezone(KYIV).date() - self.days[0]).days

    def _draw_days(self, a: int, b: int, k: int) -> list[int]:
        """k day indexes in [a, b], weighted by season and weekday."""
        base = self.cum[a - 1] if a else 0.0
        span = self.cum[b] - base
        rnd = self.rng.random
        cum = self.cum
        return sorted(
            bisect.bisect_left(cum, base + rnd() * span, a, b + 1) for _ in range(k)
        )

    # --- planning members ----------------------------------------------------------

    def _plan_members(self) -> list[dict]:
        rng = self.rng
        n_days = len(self.days)
        launch_days = min(30, n_days)
        plans = []
        names = list(SEGMENTS)
        weights = [SEGMENTS[s][0] for s in names]
        for i in range(self.n_members):
            segment = rng.choices(names, weights)[0]
            if i == 0:
                segment = "regular"  # the demo customer
            if rng.random() < LAUNCH_SHARE or i == 0:
                day = rng.randrange(launch_days)
            else:
                # Slow growth: later days a little more likely (sqrt of uniform).
                day = min(n_days - 1, int(math.sqrt(rng.random()) * n_days))
            enrolled = dt.datetime.combine(
                self.days[day],
                dt.time(rng.choice(HOURS), rng.randrange(60), rng.randrange(60)),
                tzinfo=KYIV,
            )
            enrolled = min(max(enrolled, self.start), self.end - dt.timedelta(hours=1))
            last_day = n_days - 1
            if segment == "one-off":
                last_day = min(n_days - 1, day + rng.randint(0, 30))
            elif segment in ("regular", "occasional") and rng.random() < CHURN_SHARE:
                last_day = min(n_days - 1, day + rng.randint(30, 150))
            loyal = None
            if rng.random() < LOYAL_SHARE:
                loyal = rng.choice(self.categories)
            plans.append(
                {
                    "i": i,
                    "segment": segment,
                    "enrolled": enrolled,
                    "first_day": day,
                    "last_day": last_day,
                    "loyal": loyal,
                    "store": rng.choices(
                        range(len(self.stores)), [0.45, 0.35, 0.20][: len(self.stores)]
                    )[0],
                    "weight": SEGMENTS[segment][1] * rng.lognormvariate(0, 0.5),
                }
            )
        # Purchases per member: proportional to rate × the weight of the days
        # they shop, scaled to the total asked for; one-offs buy once or twice.
        one_off = [p for p in plans if p["segment"] == "one-off"]
        for p in one_off:
            p["count"] = 1 if rng.random() < 0.7 else 2
        left = self.n_purchases - sum(p["count"] for p in one_off)
        others = [p for p in plans if p["segment"] != "one-off"]
        mass = []
        for p in others:
            a, b = p["first_day"], p["last_day"]
            days_weight = self.cum[b] - (self.cum[a - 1] if a else 0.0)
            mass.append(p["weight"] * days_weight)
        total = sum(mass) or 1.0
        exact = [max(left, 0) * m / total for m in mass]
        for p, x in zip(others, exact, strict=True):
            p["count"] = int(x)
        short = max(left, 0) - sum(p["count"] for p in others)
        order = sorted(
            range(len(others)), key=lambda j: exact[j] - int(exact[j]), reverse=True
        )
        for j in order[:short]:
            others[j]["count"] += 1
        return plans

    # --- writing -------------------------------------------------------------------
