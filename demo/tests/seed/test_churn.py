"""seed_demo writes the leaving-question demo: answers of lapsed members with
every trigger but deletion, spread over months, "Other" with words, and a
complaint about prices."""

from io import StringIO

import pytest
from django.core.management import call_command

from campaigns.models import Complaint
from members.models import LeaveAnswer, LeaveReason

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


def test_seed_demo_writes_asked_churn_reasons():
    out = StringIO()
    call_command("seed_demo", members=40, months=6, stdout=out)
    assert "Churn reasons, asked:" in out.getvalue()
    answers = LeaveAnswer.objects.select_related("reason")
    assert answers.count() >= 5
    assert {a.trigger for a in answers} >= {"win_back", "unsubscribed"}
    assert len({a.answered_at.strftime("%Y-%m") for a in answers}) >= 2
    assert all(a.text == "" for a in answers if not a.reason.asks_text)
    assert all(a.store_id for a in answers)
    assert Complaint.objects.filter(topic="price").exists()
    # The reasons members chose from are in all four languages.
    assert not LeaveReason.objects.filter(name_ru__isnull=True).exists()
    assert not LeaveReason.objects.filter(name_ro="").exists()


def test_churn_answers_are_fixed_by_the_demos_own_end_not_by_what_ran_before():
    """The answers follow from the seed, the demo's end and its members alone:
    written with the history's random stream in two other states, they are
    the same; two in three fall in the dashboards' default period as of the
    demo's end, and each comes after the member's last purchase."""
    import random
    from types import SimpleNamespace

    from django.db.models import Max
    from django.utils import timezone

    from analytics.selectors.periods import day_bounds, month_add, month_start
    from demo import seed_churn
    from demo.management.commands.seed_demo import Command
    from members.models import Member

    command = Command()
    call_command(command, members=40, months=6, stdout=StringIO())

    def answers():
        return list(
            LeaveAnswer.objects.order_by("member_id").values_list(
                "member_id", "trigger", "reason__code", "text", "answered_at"
            )
        )

    assert answers()[0][2] == "other" and answers()[0][3]

    def again(history_stream_seed: int) -> list:
        LeaveAnswer.objects.all().delete()
        seed_churn.seed(
            command=SimpleNamespace(
                end=command.end,
                seed=command.seed,
                # The history's stream, in another state each time.
                rng=random.Random(history_stream_seed),
                stdout=StringIO(),
            )
        )
        return answers()

    first = again(1)
    assert first == again(987)

    today = timezone.localtime(command.end).date()
    shown_from, _ = day_bounds(month_add(month_start(today), -2), today)
    last = dict(
        Member.objects.annotate(last=Max("purchases__occurred_at")).values_list(
            "pk", "last"
        )
    )
    shown = [a for a in first if shown_from <= a[4] <= command.end]
    assert len(shown) >= 2 * len(first) // 3
    assert all(last[a[0]] < a[4] <= command.end for a in first)
