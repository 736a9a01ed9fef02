"""Periods of the dashboards (whole months) and the date arithmetic every
analytics figure shares: months, local days and their bounds in time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from members.formatting import month_format
from members.models import Store

MAX_MONTHS = 36


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_add(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return month_add(month, 1) - dt.timedelta(days=1)


def local_month() -> dt.date:
    """The first day of the current local month."""
    return month_start(timezone.localdate())


def day_bounds(day_from: dt.date, day_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of day_from, start of the day after day_to) in the local time zone."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def as_date(value) -> dt.date:
    """A date from what the database gives for a truncated day or month (a
    date, a datetime, or SQLite's text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


@dataclass(frozen=True)
class Period:
    """Whole months first..last (inclusive); the figures stop at today."""

    first: dt.date
    last: dt.date

    @property
    def months(self) -> int:
        return (
            (self.last.year - self.first.year) * 12
            + self.last.month
            - self.first.month
            + 1
        )

    @property
    def start(self) -> dt.date:
        return self.first

    @property
    def end(self) -> dt.date:
        return min(month_end(self.last), timezone.localdate())

    def previous(self) -> Period:
        """The same number of months just before."""
        return Period(month_add(self.first, -self.months), month_add(self.first, -1))

    def label(self) -> str:
        """E.g. "березень 2026", "січень 2026 – березень 2026" (the active language)."""
        if self.first == self.last:
            return month_format(self.first)
        return f"{month_format(self.first)} – {month_format(self.last)}"


def period_default() -> Period:
    """The current month and the two before it."""
    this = local_month()
    return Period(month_add(this, -2), this)


def _month_parse(value: str) -> dt.date:
    return dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a month


def period_from_params(params) -> tuple[Period, int | None, list[str]]:
    """(period, store id or None, errors) from ?from=YYYY-MM&to=YYYY-MM&store=id.
    Bad values fall back to the default with a message naming the field."""
    errors: list[str] = []
    period = period_default()
    first, last = period.first, period.last
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        try:
            month = _month_parse(raw)
        except ValueError:
            errors.append(
                str(_("“%(field)s”: give a month as YYYY-MM.") % {"field": name})
            )
            continue
        if name == "from":
            first = month
        else:
            last = month
    if first > last:
        errors.append(str(_("“from” is after “to”: showing the default period.")))
        first, last = period.first, period.last
    elif (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        errors.append(
            str(
                ngettext(
                    "At most %(n)s month at a time: showing the last %(n)s.",
                    "At most %(n)s months at a time: showing the last %(n)s.",
                    MAX_MONTHS,
                )
                % {"n": MAX_MONTHS}
            )
        )
        first = month_add(last, -(MAX_MONTHS - 1))
    store_id = None
    raw_store = (params.get("store") or "").strip()
    if raw_store:
        if raw_store.isdigit() and Store.objects.filter(pk=int(raw_store)).exists():
            store_id = int(raw_store)
        else:
            errors.append(str(_("“store”: no such store; showing all stores.")))
    return Period(first, last), store_id, errors
