"""Age bands: one definition, the same answer in Python and in SQL."""

from __future__ import annotations

import datetime as dt

import pytest

from members.ages import AGE_BANDS, UNKNOWN, age_on, band_case, band_of, band_q
from members.models import Member
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 3, 1)


def test_age_turns_on_the_birthday():
    assert age_on(dt.date(2000, 3, 1), ON) == 26
    assert age_on(dt.date(2000, 3, 2), ON) == 25
    assert age_on(dt.date(2004, 2, 29), ON) == 22  # leap-day birthday: 1 March


@pytest.mark.parametrize(
    ("birthday", "band"),
    [
        (dt.date(2008, 3, 2), "0-17"),  # 18 tomorrow
        (dt.date(2008, 3, 1), "18-24"),  # 18 today
        (dt.date(2001, 3, 2), "18-24"),  # 24 for one more day
        (dt.date(2001, 3, 1), "25-34"),
        (dt.date(1992, 3, 1), "25-34"),
        (dt.date(1991, 3, 1), "35-44"),
        (dt.date(1972, 3, 2), "45-54"),
        (dt.date(1966, 6, 1), "55-64"),
        (dt.date(1961, 3, 1), "65+"),
        (dt.date(1930, 1, 1), "65+"),
        (None, UNKNOWN),
    ],
)
def test_band_of_and_band_q_agree(birthday, band):
    assert band_of(birthday, ON) == band
    member = MemberFactory()
    Member.objects.filter(pk=member.pk).update(birthday=birthday)
    matching = [
        b.code for b in AGE_BANDS if Member.objects.filter(band_q(b.code, ON)).exists()
    ]
    assert matching == [band]
    annotated = Member.objects.annotate(band=band_case(ON)).get(pk=member.pk).band
    assert annotated == band


def test_bands_cover_every_age_once():
    ages = [band for band in AGE_BANDS if band.low is not None]
    assert ages[0].low == 0 and ages[-1].high is None
    for before, after in zip(ages, ages[1:], strict=False):
        assert after.low == before.high + 1
