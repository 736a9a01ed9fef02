"""Age bands: the one definition segments and analytics both use.

A band is a code ("25-34") with a label and the ages it holds, lower and upper
included; "unknown" is every member without a birthday. A member's age is
counted on a given day (their last birthday on or before it; 29 February
birthdays turn a year older on 1 March in non-leap years).

`band_of(birthday, on)` names one member's band; `band_q(code, on)` is the
matching filter on Member (birthday ranges: one indexable SQL condition);
`band_case(on)` annotates a queryset with each row's band code in SQL, so the
analytics group by it in one query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, CharField, Q, Value, When
from django.utils.translation import gettext_lazy as _

UNKNOWN = "unknown"


@dataclass(frozen=True)
class AgeBand:
    code: str
    label: str
    low: int | None  # None: the unknown band
    high: int | None  # None: no upper end


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("0-17", _("under 18"), 0, 17),
    AgeBand("18-24", _("18–24"), 18, 24),
    AgeBand("25-34", _("25–34"), 25, 34),
    AgeBand("35-44", _("35–44"), 35, 44),
    AgeBand("45-54", _("45–54"), 45, 54),
    AgeBand("55-64", _("55–64"), 55, 64),
    AgeBand("65+", _("65 and over"), 65, None),
    AgeBand(UNKNOWN, _("age unknown"), None, None),
)
BANDS_BY_CODE = {band.code: band for band in AGE_BANDS}


def age_band_choices() -> list[tuple[str, str]]:
    return [(band.code, band.label) for band in AGE_BANDS]


def age_band_label(code: str) -> str:
    band = BANDS_BY_CODE.get(code)
    return str(band.label) if band else code


def age_on(birthday: dt.date, on: dt.date) -> int:
    """Whole years from `birthday` to `on`."""
    return (
        on.year - birthday.year - ((on.month, on.day) < (birthday.month, birthday.day))
    )


def band_of(birthday: dt.date | None, on: dt.date) -> str:
    """The band code of a member born on `birthday`, on the day `on`."""
    if birthday is None:
        return UNKNOWN
    age = age_on(birthday, on)
    for band in AGE_BANDS:
        if (
            band.low is not None
            and age >= band.low
            and (band.high is None or age <= band.high)
        ):
            return band.code
    return AGE_BANDS[0].code  # born after `on`: a data error, counted as the youngest


def _years_before(on: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (28 February for 29 February)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def band_q(code: str, on: dt.date, prefix: str = "") -> Q:
    """Members (or rows reaching a member through `prefix`, e.g. "member__") in
    the band `code` on the day `on`: born so that their age on `on` is in the
    band (age >= low: born on or before `on` minus low years; age <= high: born
    after `on` minus high + 1 years)."""
    band = BANDS_BY_CODE[code]
    if band.low is None:
        return Q(**{f"{prefix}birthday__isnull": True})
    lookups: dict = {f"{prefix}birthday__isnull": False}
    if band.low:
        lookups[f"{prefix}birthday__lte"] = _years_before(on, band.low)
    if band.high is not None:
        lookups[f"{prefix}birthday__gt"] = _years_before(on, band.high + 1)
    return Q(**lookups)


def band_case(on: dt.date, prefix: str = "") -> Case:
    """An expression giving each row's band code on `on` (for annotate/values)."""
    whens = [
        When(band_q(band.code, on, prefix), then=Value(band.code))
        for band in AGE_BANDS
        if band.low is not None
    ]
    return Case(*whens, default=Value(UNKNOWN), output_field=CharField())
