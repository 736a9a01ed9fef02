"""Automated journeys: each sends once per occurrence, in the member's language,
only while switched on; the due members come from one query."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.utils import timezone

from campaigns.journeys import services as journeys
from campaigns.journeys.render import render, variables_unknown
from campaigns.journeys.services import journey_due, journey_run
from campaigns.models import Journey, JourneyKind, Message
from members.formatting import date_format
from members.tests.factories import MemberFactory
from rewards.models import PointsLot, TierHistory, VoucherSource
from rewards.services import purchase_record, subscriptions_remind_due, voucher_grant
from rewards.tests.factories import MembershipPlanFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


def _journey(kind, *, enabled=True, days=7, texts=None, channel=""):
    columns = {}
    for language, (subject, body) in (
        texts or {"en": ("Hi {{ first_name }}", "Hello {{ first_name }}")}
    ).items():
        columns |= {f"subject_{language}": subject, f"body_{language}": body}
    return Journey.objects.create(
        kind=kind, enabled=enabled, days=days, channel=channel, **columns
    )


def _fan(store, **kwargs):
    kwargs.setdefault("email_consent", True)
    kwargs.setdefault("sms_consent", True)
    kwargs.setdefault("language", "en")
    return MemberFactory(store=store, **kwargs)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """journey_run with the deliveries it queues on commit carried out."""

    def _run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return journey_run(**kwargs)

    return _run


def _keys(kind):
    return sorted(
        Message.objects.filter(kind=f"journey:{kind}").values_list("key", flat=True)
    )


class TestRender:
    def test_variables_are_replaced_and_unknown_ones_left_empty(self):
        text = "Hi {{first_name}}, {{ balance }} points{{ nope }}."

        assert render(text, {"first_name": "Olena", "balance": 120}) == (
            "Hi Olena, 120 points."
        )

    def test_unknown_variables_are_listed_per_journey(self):
        assert variables_unknown("{{ voucher_code }} {{ tier }}", kind="birthday") == [
            "voucher_code"
        ]
        assert variables_unknown("{{ voucher_code }}", kind="voucher_reminder") == []


class TestWelcome:
    def test_new_member_is_welcomed_once_in_their_language(self, run, store):
        _journey(
            JourneyKind.WELCOME,
            texts={
                "en": ("Welcome", "Welcome, {{ first_name }}! Card {{ card_number }}"),
                "uk": ("Вітаємо", "Вітаємо, {{ first_name }}!"),
            },
        )
        olena = _fan(store, first_name="Олена", language="uk")
        john = _fan(store, first_name="John")
        old = _fan(store, enrolled_at=timezone.now() - dt.timedelta(days=30))

        assert run(kind="welcome") == 2
        assert run(kind="welcome") == 0

        bodies = {m.to[0]: m.body for m in mail.outbox}
        assert bodies[olena.email].startswith("Вітаємо, Олена!")
        assert bodies[john.email].startswith(f"Welcome, John! Card {john.card_number}")
        assert old.email not in bodies
        assert Message.objects.filter(key="journey:welcome").count() == 2

    def test_switched_off_journey_sends_nothing(self, run, store):
        _journey(JourneyKind.WELCOME, enabled=False)
        _fan(store)

        assert run(kind="welcome") == 0
        assert Message.objects.count() == 0

    def test_no_journey_row_sends_nothing(self, run, store):
        _fan(store)

        assert run(kind="welcome") == 0

    def test_due_members_come_from_one_query(self, store, django_assert_num_queries):
        journey = _journey(JourneyKind.WELCOME)
        for _n in range(5):
            _fan(store)

        with django_assert_num_queries(1):
            due = journey_due(journey=journey)

        assert len(due) == 5

    def test_sent_in_chunks(self, run, store, monkeypatch):
        _journey(JourneyKind.WELCOME)
        members = [_fan(store) for _n in range(5)]
        chunks = []
        real = journeys.journey_send_chunk

        def spy(**kwargs):
            chunks.append(len(kwargs["items"]))
            return real(**kwargs)

        monkeypatch.setattr(journeys, "CHUNK", 2)
        monkeypatch.setattr(journeys, "journey_send_chunk", spy)

        run(kind="welcome")

        assert chunks == [2, 2, 1]
        assert {m.to[0] for m in mail.outbox} == {m.email for m in members}

    def test_marketing_journey_respects_consent(self, run, store):
        _journey(JourneyKind.WELCOME)
        _fan(store, email_consent=False, sms_consent=False)

        run(kind="welcome")

        message = Message.objects.get()
        assert message.marketing is True
        assert message.status == "suppressed"
        assert mail.outbox == []


class TestBirthday:
    def test_once_a_year(self, run, store):
        _journey(JourneyKind.BIRTHDAY, texts={"en": ("", "Happy birthday!")})
        # Noon in Kyiv: an hour later is still the same day (from 23:00 on,
        # it was the next fan's birthday).
        today = timezone.localdate()
        now = dt.datetime.combine(
            today, dt.time(12), tzinfo=timezone.get_current_timezone()
        )
        born = (
            today.replace(year=1990)
            if (today.month, today.day) != (2, 29)
            else today.replace(year=1992)
        )
        fan = _fan(store, birthday=born)
        _fan(store, birthday=born + dt.timedelta(days=1))

        run(kind="birthday", now=now)
        run(kind="birthday", now=now + dt.timedelta(hours=1))

        assert _keys("birthday") == [f"journey:birthday:{today.year}"]
        assert Message.objects.get(kind="journey:birthday").member == fan

    def test_leap_day_birthday_is_wished_on_the_28th(self, store):
        journey = _journey(JourneyKind.BIRTHDAY)
        leapling = _fan(store, birthday=dt.date(2004, 2, 29))
        feb28 = dt.datetime(2027, 2, 28, 10, 0, tzinfo=dt.UTC)

        assert [row[0] for row in journey_due(journey=journey, now=feb28)] == [
            leapling.pk
        ]


class TestPointsExpiring:
    def test_one_warning_per_window_naming_the_total(self, run, store):
        _journey(
            JourneyKind.POINTS_EXPIRING,
            days=14,
            texts={
                "en": (
                    "",
                    "{{ points_expiring }} points expire from {{ points_expiring_date }}",
                )
            },
        )
        fan = _fan(store)
        now = timezone.now()
        account = fan.account
        lots = [
            PointsLot.objects.create(
                account=account,
                points=p,
                remaining=p,
                earned_at=now,
                available_at=now,
                expires_at=now + dt.timedelta(days=d),
            )
            for p, d in ((30, 3), (20, 10), (50, 40))
        ]

        run(kind="points_expiring", now=now)
        run(kind="points_expiring", now=now + dt.timedelta(days=1))

        assert _keys("points_expiring") == [f"journey:expiring:{lots[0].pk}"]
        assert mail.outbox[0].body.startswith("50 points expire from")

    def test_the_warning_is_written_in_the_members_language(self, run, store):
        _journey(
            JourneyKind.POINTS_EXPIRING,
            days=14,
            texts={
                "ro": (
                    "",
                    "{{ points_expiring|points }} expiră pe {{ points_expiring_date }}",
                ),
                "uk": (
                    "",
                    "{{ points_expiring|points }} згорять {{ points_expiring_date }}",
                ),
            },
        )
        fans = {lang: _fan(store, language=lang) for lang in ("ro", "uk", "en")}
        now = timezone.now()
        for fan in fans.values():
            PointsLot.objects.create(
                account=fan.account,
                points=1020,
                remaining=1020,
                earned_at=now,
                available_at=now,
                expires_at=now + dt.timedelta(days=3),
            )
        day = timezone.localtime(now + dt.timedelta(days=3)).date()

        run(kind="points_expiring", now=now)

        bodies = {
            lang: Message.objects.get(member=fan).body for lang, fan in fans.items()
        }
        assert bodies["ro"] == f"1.020 de puncte expiră pe {date_format(day, 'ro')}"
        assert bodies["uk"] == (f"1\u00a0020 балів згорять {date_format(day, 'uk')}")
        # No English text: the Ukrainian one (the default language), in Ukrainian.
        assert bodies["en"] == bodies["uk"]

    def test_a_new_window_warns_again(self, run, store):
        journey = _journey(JourneyKind.POINTS_EXPIRING, days=7)
        fan = _fan(store)
        now = timezone.now()
        for d in (3, 12):
            PointsLot.objects.create(
                account=fan.account,
                points=10,
                remaining=10,
                earned_at=now,
                available_at=now,
                expires_at=now + dt.timedelta(days=d),
            )
        run(kind="points_expiring", now=now)

        assert journey_due(journey=journey, now=now + dt.timedelta(days=6)) == []
        assert len(journey_due(journey=journey, now=now + dt.timedelta(days=8))) == 1


class TestTierChange:
    def test_up_and_down_once_per_move_each_with_its_switch(self, run, store):
        _journey(
            JourneyKind.TIER_UP,
            texts={"en": ("", "Welcome to {{ tier }} (from {{ previous_tier }})")},
        )
        _journey(JourneyKind.TIER_DOWN, enabled=False)
        silver, gold = TierFactory(name="Silver"), TierFactory(name="Gold")
        fan = _fan(store)
        up = TierHistory.objects.create(
            member=fan,
            from_tier=silver,
            to_tier=gold,
            kind=TierHistory.Kind.UP,
            reason="test",
            value=Decimal("0"),
        )
        TierHistory.objects.create(
            member=fan,
            from_tier=gold,
            to_tier=silver,
            kind=TierHistory.Kind.DOWN,
            reason="test",
            value=Decimal("0"),
        )

        assert run(kind="tier_change") == 1
        assert run(kind="tier_change") == 0

        assert _keys("tier_up") == [f"journey:tier:{up.pk}"]
        assert _keys("tier_down") == []
        assert mail.outbox[0].body.startswith("Welcome to Gold (from Silver)")


class TestWinBack:
    def test_once_per_lapse(self, run, store):
        journey = _journey(
            JourneyKind.WIN_BACK,
            days=30,
            texts={"en": ("", "We miss you: {{ days_since_purchase }} days")},
        )
        fan = _fan(store)
        _fan(store)  # never bought: nothing to win back
        now = timezone.now()
        first, _r = purchase_record(
            store=store,
            member=fan,
            receipt_id="P1",
            total="50.00",
            occurred_at=now - dt.timedelta(days=40),
        )

        run(kind="win_back", now=now)
        run(kind="win_back", now=now)
        assert _keys("win_back") == [f"journey:winback:{first.pk}"]
        assert mail.outbox[0].body.startswith("We miss you: 40 days")

        second, _r = purchase_record(
            store=store,
            member=fan,
            receipt_id="P2",
            total="50.00",
            occurred_at=now - dt.timedelta(days=1),
        )
        assert journey_due(journey=journey, now=now) == []
        later = now + dt.timedelta(days=31)
        run(kind="win_back", now=later)
        assert _keys("win_back") == [
            f"journey:winback:{first.pk}",
            f"journey:winback:{second.pk}",
        ]


class TestVoucherReminder:
    def test_unused_voucher_reminded_once_as_a_service_message(self, run, store):
        _journey(
            JourneyKind.VOUCHER_REMINDER,
            days=5,
            texts={
                "en": (
                    "",
                    "{{ reward }} ({{ voucher_code }}) ends {{ voucher_expires_date }}",
                )
            },
        )
        fan = _fan(store, email_consent=False)  # service: no consent needed
        reward = RewardFactory(name="Free coffee", voucher_valid_days=3)
        voucher, _r = voucher_grant(
            member=fan,
            reward=reward,
            source=VoucherSource.GOODWILL,
            idempotency_key="v1",
        )
        far = RewardFactory(voucher_valid_days=30)
        voucher_grant(
            member=fan, reward=far, source=VoucherSource.GOODWILL, idempotency_key="v2"
        )

        run(kind="voucher_reminder")
        run(kind="voucher_reminder")

        assert _keys("voucher_reminder") == [f"journey:voucher:{voucher.pk}"]
        message = Message.objects.get(kind="journey:voucher_reminder")
        assert message.marketing is False
        assert message.status == "sent"
        assert mail.outbox[0].body.startswith(f"Free coffee ({voucher.code}) ends ")


class TestMembershipRenewal:
    def _sell(self, member, store):
        from rewards.services import subscription_sell

        plan = MembershipPlanFactory(name="Club")
        start = timezone.now() - relativedelta(months=1) + dt.timedelta(days=3)
        sub, _r = subscription_sell(
            member=member, plan=plan, store=store, receipt_id="M-1", at=start
        )
        return sub

    def test_reminder_uses_the_journey_text_once_per_period(
        self, store, django_capture_on_commit_callbacks
    ):
        _journey(
            JourneyKind.MEMBERSHIP_RENEWAL,
            texts={"en": ("Renew", "{{ plan }} ends {{ membership_ends_date }}")},
        )
        fan = _fan(store, email_consent=False)
        sub = self._sell(fan, store)

        with django_capture_on_commit_callbacks(execute=True):
            subscriptions_remind_due(days=7)
            subscriptions_remind_due(days=7)

        end = sub.current_period_end
        assert _keys("membership_renewal") == [
            f"journey:membership:{sub.pk}:{end:%Y%m%d}"
        ]
        assert [m.subject for m in mail.outbox] == ["Renew"]
        assert mail.outbox[0].body.startswith("Club ends ")

    def test_switched_off_renewal_journey_sends_nothing(
        self, store, django_capture_on_commit_callbacks
    ):
        _journey(JourneyKind.MEMBERSHIP_RENEWAL, enabled=False)
        self._sell(_fan(store), store)

        with django_capture_on_commit_callbacks(execute=True):
            subscriptions_remind_due(days=7)

        assert Message.objects.filter(kind__startswith="journey:").count() == 0
        assert mail.outbox == []


def test_journey_tasks_are_in_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert {
        "campaigns.tasks.messages_requeue_due",
        "campaigns.tasks.journey_welcome_due",
        "campaigns.tasks.journey_birthday_due",
        "campaigns.tasks.journey_points_expiring_due",
        "campaigns.tasks.journey_tier_change_due",
        "campaigns.tasks.journey_win_back_due",
        "campaigns.tasks.journey_voucher_reminder_due",
    } <= tasks


def test_journey_task_runs_the_journey(store, django_capture_on_commit_callbacks):
    from campaigns.tasks import journey_welcome_due

    _journey(JourneyKind.WELCOME)
    _fan(store)

    with django_capture_on_commit_callbacks(execute=True):
        assert journey_welcome_due.apply().get() == 1
    assert len(mail.outbox) == 1
