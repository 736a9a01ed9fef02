"""Welcome, profile and birthday bonuses: BONUS ledger entries, each at most once."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from members.errors import Conflict
from members.models import Member
from members.services import member_enroll, member_update_profile
from members.tests.factories import MemberFactory
from rewards import tasks
from rewards.models import BonusSettings, LedgerEntry, LedgerKind
from rewards.selectors.invariants import ledger_discrepancies
from rewards.selectors.statement import ledger_entry_explain
from rewards.services import birthday_bonus_grant_due, points_bonus_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def bonuses():
    row, _created = BonusSettings.objects.update_or_create(
        pk=1,
        defaults={"welcome_points": 50, "profile_points": 30, "birthday_points": 100},
    )
    return row


def _bonuses(member: Member) -> list[tuple[str, int]]:
    return list(
        LedgerEntry.objects.filter(account__member=member, kind=LedgerKind.BONUS)
        .order_by("id")
        .values_list("idempotency_key", "points")
    )


def _balance(member: Member) -> int:
    member.account.refresh_from_db()
    return member.account.balance


def _birthday_entered(member: Member, birthday: dt.date, entered: dt.datetime):
    member_update_profile(member=member, birthday=birthday)
    # Back-date when the birthday was entered, as if it had been long ago.
    Member.objects.filter(pk=member.pk).update(birthday_set_at=entered)


def test_bonuses_are_off_by_default():
    member = MemberFactory()

    assert _bonuses(member) == []
    assert _balance(member) == 0


def test_welcome_bonus_credited_once_at_enrollment(bonuses, store):
    member = member_enroll(phone="+380671110001", store=store)

    assert _bonuses(member) == [(f"welcome:{member.pk}", 50)]
    entry = LedgerEntry.objects.get(idempotency_key=f"welcome:{member.pk}")
    assert ledger_entry_explain(entry, currency="UAH") == "Welcome bonus → +50 points"

    again = points_bonus_grant(
        member=member,
        points=50,
        reason="Welcome bonus",
        idempotency_key=f"welcome:{member.pk}",
    )

    assert again == entry
    assert _balance(member) == 50
    assert ledger_discrepancies() == []


def test_bonus_with_a_used_key_and_other_points_is_refused(bonuses):
    member = MemberFactory()

    with pytest.raises(
        Conflict, match="This bonus was already given with other details."
    ):
        points_bonus_grant(
            member=member,
            points=70,
            reason="Welcome bonus",
            idempotency_key=f"welcome:{member.pk}",
        )


def test_profile_bonus_credited_once_when_profile_first_complete(bonuses):
    member = MemberFactory()  # names and email, no birthday yet
    assert _bonuses(member) == [(f"welcome:{member.pk}", 50)]

    member_update_profile(member=member, birthday=dt.date(1990, 3, 4))
    member_update_profile(member=member, birthday=dt.date(1991, 3, 4))
    member_update_profile(member=member, first_name="Olha")

    assert _bonuses(member) == [
        (f"welcome:{member.pk}", 50),
        (f"profile:{member.pk}", 30),
    ]
    member.refresh_from_db()
    assert member.profile_bonus_at is not None
    assert _balance(member) == 80


def test_profile_bonus_not_given_while_a_field_is_missing(bonuses, store):
    member = member_enroll(phone="+380671110002", first_name="Ivan", store=store)

    member_update_profile(member=member, birthday=dt.date(1990, 3, 4))

    assert [key for key, _points in _bonuses(member)] == [f"welcome:{member.pk}"]


def test_birthday_bonus_once_a_year_in_the_birthday_month(bonuses):
    member = MemberFactory()
    _birthday_entered(
        member, dt.date(1990, 6, 20), dt.datetime(2025, 1, 5, tzinfo=dt.UTC)
    )
    before = _balance(member)

    assert birthday_bonus_grant_due(today=dt.date(2026, 5, 31)) == 0
    assert birthday_bonus_grant_due(today=dt.date(2026, 6, 1)) == 1
    assert birthday_bonus_grant_due(today=dt.date(2026, 6, 2)) == 0
    assert birthday_bonus_grant_due(today=dt.date(2027, 6, 1)) == 1

    keys = [key for key, _points in _bonuses(member) if key.startswith("birthday:")]
    assert keys == [f"birthday:{member.pk}:2026", f"birthday:{member.pk}:2027"]
    assert _balance(member) == before + 200
    assert ledger_discrepancies() == []


def test_birthday_bonus_refused_when_entered_less_than_30_days_before(bonuses):
    member = MemberFactory()
    _birthday_entered(
        member, dt.date(1990, 6, 20), dt.datetime(2026, 5, 25, tzinfo=dt.UTC)
    )

    assert birthday_bonus_grant_due(today=dt.date(2026, 6, 1)) == 0
    assert birthday_bonus_grant_due(today=dt.date(2027, 6, 1)) == 1


def test_birthday_entered_through_the_profile_now_earns_nothing_this_month(bonuses):
    today = timezone.localdate()
    member = MemberFactory()
    member_update_profile(member=member, birthday=today.replace(year=1990))

    assert birthday_bonus_grant_due(today=today) == 0


def test_birthday_task_run_twice_gives_the_bonus_once(bonuses):
    today = timezone.localdate()
    member = MemberFactory()
    _birthday_entered(
        member,
        today.replace(year=1990),
        timezone.now() - dt.timedelta(days=400),
    )
    other = MemberFactory()  # no birthday
    before = _balance(member)

    assert tasks.birthday_bonus_grant_due() == 1
    assert tasks.birthday_bonus_grant_due() == 0

    assert _balance(member) == before + 100
    assert not [k for k, _p in _bonuses(other) if k.startswith("birthday:")]
    assert ledger_discrepancies() == []


def test_birthday_bonus_chunks_cover_every_member(bonuses):
    members = [MemberFactory() for _ in range(5)]
    for member in members:
        _birthday_entered(
            member, dt.date(1985, 9, 10), dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )

    assert birthday_bonus_grant_due(today=dt.date(2026, 9, 1), batch=2) == 5


def test_birthday_on_29_february_counts_from_28_february(bonuses):
    member = MemberFactory()
    _birthday_entered(
        member, dt.date(1992, 2, 29), dt.datetime(2027, 1, 30, tzinfo=dt.UTC)
    )

    # 2027-02-28 minus 30 days is 2027-01-29: entered a day too late.
    assert birthday_bonus_grant_due(today=dt.date(2027, 2, 1)) == 0


def test_birthday_gift_voucher_once_a_year_under_the_same_rules(bonuses):
    from rewards.models import Voucher, VoucherSource
    from rewards.tests.factories import RewardFactory

    bonuses.birthday_points = 0
    bonuses.birthday_reward = RewardFactory(name="Birthday cake", stock=0)
    bonuses.save()
    member = MemberFactory()
    _birthday_entered(
        member, dt.date(1990, 6, 20), dt.datetime(2025, 1, 5, tzinfo=dt.UTC)
    )
    late = MemberFactory()  # entered a week before: no gift this year
    _birthday_entered(
        late, dt.date(1991, 6, 20), dt.datetime(2026, 6, 13, tzinfo=dt.UTC)
    )

    assert birthday_bonus_grant_due(today=dt.date(2026, 6, 1)) == 1
    assert birthday_bonus_grant_due(today=dt.date(2026, 6, 2)) == 0

    gifts = Voucher.objects.filter(source=VoucherSource.BIRTHDAY)
    assert [(v.member_id, v.reward.name, v.points_spent) for v in gifts] == [
        (member.pk, "Birthday cake", 0)
    ]
    assert not [k for k, _p in _bonuses(member) if k.startswith("birthday:")]


@pytest.mark.parametrize(
    ("language", "points", "sentence"),
    [
        ("en", 1, "Welcome bonus → +1 point"),
        ("en", 2, "Welcome bonus → +2 points"),
        ("uk", 1, "Вітальний бонус → +1 бал"),
        ("uk", 3, "Вітальний бонус → +3 бали"),
        ("uk", 5, "Вітальний бонус → +5 балів"),
    ],
)
def test_statement_sentence_counts_points_in_the_languages_plural(
    store, language, points, sentence
):
    """The count of points in a statement line takes the plural form its number
    needs (1 point, 2 points; 1 бал, 3 бали, 5 балів), not one fixed word."""
    BonusSettings.objects.update_or_create(pk=1, defaults={"welcome_points": points})
    member = member_enroll(phone="+380671110009", store=store)
    entry = LedgerEntry.objects.get(idempotency_key=f"welcome:{member.pk}")

    with translation.override(language):
        assert ledger_entry_explain(entry, currency="UAH") == sentence
