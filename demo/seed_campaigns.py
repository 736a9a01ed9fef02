"""Demo campaigns for seed_demo: one sent (with opens and clicks), an A/B test
with a holdout and a purchase bonus (sent), one scheduled, one draft.

The sends go through the real fan-out, run in this process (Celery eager for
the duration), then their dates are moved back into the demo's past so the
figures have purchases to count.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.db.models import Q

from campaigns.models import (
    Campaign,
    CampaignChunk,
    CampaignRun,
    CampaignVariant,
    Message,
    Segment,
    SegmentKind,
)
from campaigns.sending.chunks import campaign_bonuses_grant_due, campaign_chunk_send
from campaigns.sending.services import campaign_schedule, campaign_send_now
from members.audit import StaffActor

TEXTS = {
    "A": {
        "uk": (
            "{{ first_name }}, у вас {{ balance|points }}",
            "Вітаємо, {{ first_name }}! На вашому рахунку {{ balance|points }}."
            "{% if reward %} Ще {{ reward_points_needed|points }} — і «{{ reward }}» ваш.{% endif %}",
        ),
        "ru": (
            "{{ first_name }}, у вас {{ balance|points }}",
            "Здравствуйте, {{ first_name }}! У вас {{ balance|points }}."
            "{% if reward %} Ещё {{ reward_points_needed|points }} — и «{{ reward }}» ваш.{% endif %}",
        ),
        "ro": (
            "{{ first_name }}, aveți {{ balance|points }}",
            "Bună, {{ first_name }}! Aveți {{ balance|points }}."
            "{% if reward %} Încă {{ reward_points_needed|points }} și „{{ reward }}” este al "
            "dumneavoastră.{% endif %}",
        ),
        "en": (
            "{{ first_name }}, you have {{ balance|points }}",
            "Hi {{ first_name }}! You have {{ balance|points }}."
            "{% if reward %} {{ reward_points_needed|points }} more for {{ reward }}.{% endif %}",
        ),
    },
    "B": {
        "uk": (
            "Подарунок для вас, {{ first_name }}",
            "{{ first_name }}, купіть до кінця тижня — і отримайте бонусні бали!",
        ),
        "ru": (
            "Подарок для вас, {{ first_name }}",
            "{{ first_name }}, купите до конца недели — и получите бонусные баллы!",
        ),
        "ro": (
            "Un cadou pentru dumneavoastră, {{ first_name }}",
            "{{ first_name }}, cumpărați până la sfârșitul săptămânii și primiți "
            "puncte bonus!",
        ),
        "en": (
            "A gift for you, {{ first_name }}",
            "{{ first_name }}, buy before the end of the week and get bonus points!",
        ),
    },
}


@contextmanager
def _eager():
    from loyalty_site.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = saved


def _campaign(name: str, segment: Segment, user, labels=("A",), **fields) -> Campaign:
    campaign = Campaign.objects.create(
        name=name, segment=segment, created_by=user, **fields
    )
    for label in labels:
        texts = {}
        for lang, (subject, body) in TEXTS[label].items():
            texts[f"subject_{lang}"] = subject
            texts[f"body_{lang}"] = body
        CampaignVariant.objects.create(campaign=campaign, label=label, **texts)
    return campaign


def _actor(user) -> StaffActor | None:
    """The demo marketer as the staff member who sends (audit log)."""
    return StaffActor(user=user) if user is not None else None


def _send(campaign: Campaign, user) -> None:
    """Send now and make sure every chunk ran here (on_commit does not fire
    inside an outer transaction, e.g. in tests)."""
    run = campaign_send_now(campaign=campaign, actor=_actor(user))
    for chunk_id in CampaignChunk.objects.filter(
        run=run, done_at__isnull=True
    ).values_list("pk", flat=True):
        campaign_chunk_send(chunk_id=chunk_id)


def _backdate(campaign: Campaign, started: dt.datetime, rng) -> None:
    """Move a sent run into the past and mark some messages opened and clicked."""
    run = CampaignRun.objects.get(campaign=campaign)
    CampaignRun.objects.filter(pk=run.pk).update(
        started_at=started, finished_at=started + dt.timedelta(minutes=3)
    )
    messages = Message.objects.filter(campaign=campaign, key=run.key)
    messages.update(created_at=started, sent_at=started + dt.timedelta(minutes=2))
    ids = list(
        messages.filter(status="sent", channel="email").values_list("pk", flat=True)
    )
    # At least one: a sent campaign with no opens would show the marketer an
    # empty report, and which ones open depends on how many draws the seed
    # made before (the data runs up to today).
    opened = [pk for pk in ids if rng.random() < 0.45] or ids[:1]
    clicked = [pk for pk in opened if rng.random() < 0.3]
    Message.objects.filter(pk__in=opened).update(
        opened_at=started + dt.timedelta(hours=2)
    )
    Message.objects.filter(pk__in=clicked).update(
        clicked_at=started + dt.timedelta(hours=2, minutes=5)
    )


def seed(*, command) -> None:
    """Four campaigns: sent, A/B sent with holdout and bonus, scheduled, draft."""
    rng = command.rng
    end = command.end
    user = command.staff.get("marketer") if isinstance(command.staff, dict) else None
    everyone = Segment.objects.create(
        name="Campaigns demo: every member", kind=SegmentKind.RULES, definition={}
    )
    with _eager():
        sent = _campaign(
            "Points reminder", everyone, user, channel="preferred", holdout_percent=10
        )
        _send(sent, user)
        _backdate(sent, end - dt.timedelta(days=20), rng)

        ab = _campaign(
            "Weekend bonus A/B",
            everyone,
            user,
            labels=("A", "B"),
            channel="email",
            variant_b_percent=50,
            holdout_percent=15,
            promotion="bonus",
            bonus_points=50,
            window_days=7,
        )
        _send(ab, user)
        _backdate(ab, end - dt.timedelta(days=6), rng)
        bonuses = campaign_bonuses_grant_due(now=end)

    scheduled = _campaign("Spring news", everyone, user, channel="sms")
    campaign_schedule(
        campaign=scheduled, at=end + dt.timedelta(days=3), actor=_actor(user)
    )
    _campaign("Draft: birthday month", everyone, user, channel="email")
    messages = Message.objects.filter(Q(campaign=sent) | Q(campaign=ab)).count()
    command.stdout.write(
        f"Campaigns: 4 (2 sent, {messages} messages, {bonuses} campaign bonuses), "
        "1 scheduled, 1 draft."
    )
