"""Demo events and members-only pages for seed_demo: a past tasting with
check-ins, an upcoming Gold-only workshop, a full presentation with a waitlist,
an open tasting the demo customer is going to, and two members-only pages."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from campaigns.events.checkin import event_checkin
from campaigns.events.services import content_page_save, event_rsvp, event_save
from campaigns.models import (
    ContentKind,
    ContentPage,
    Event,
    EventKind,
    EventStatus,
)
from members.audit import StaffActor
from members.models import Member
from rewards.models import Tier

DEMO_EMAIL = "demo@example.com"


def _at(day: dt.datetime, hour: int) -> dt.datetime:
    return timezone.localtime(day).replace(hour=hour, minute=0, second=0, microsecond=0)


def _event(store, starts_at, *, hours=2, **fields) -> Event:
    return event_save(
        event=Event(
            store=store,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=hours),
            status=EventStatus.PUBLISHED,
            **fields,
        )
    )


def seed(*, command) -> None:
    """Write the demo events and pages through the services (called by seed_demo)."""
    rng = command.rng
    stores = command.stores
    cashier = command.staff["cashier"]
    now = timezone.now()
    gold = Tier.objects.filter(is_active=True).order_by("-rank").first()
    members = list(
        Member.objects.exclude(email=DEMO_EMAIL)
        .select_related("account")
        .order_by("pk")[:400]
    )
    rng.shuffle(members)
    golds = [m for m in members if gold and m.account.tier_id == gold.pk]
    others = [m for m in members if m not in golds]
    demo = Member.objects.filter(email=DEMO_EMAIL).first()

    # 1. Last week's cheese tasting: signed up, most came and earned points.
    past_start = _at(now - dt.timedelta(days=6), 18)
    past = _event(
        stores[0],
        past_start,
        kind=EventKind.TASTING,
        title_uk="Дегустація українських сирів",
        title_ru="Дегустация украинских сыров",
        title_ro="Degustare de brânzeturi ucrainene",
        title_en="Ukrainian cheese tasting",
        description_uk="Шість сирів від крафтових сироварень і вино до них.",
        description_ru="Шесть сыров от крафтовых сыроварен и вино к ним.",
        description_ro="Șase brânzeturi de la fabrici artizanale, cu vin pe măsură.",
        description_en="Six cheeses from craft dairies, with wine to match.",
        capacity=20,
        checkin_points=30,
    )
    signed = others[:14]
    for member in signed:
        event_rsvp(member=member, event_id=past.pk, now=past_start - dt.timedelta(2))
    came = signed[:11] + others[14:16]  # two walk-ins
    for member in came:
        event_checkin(
            event_id=past.pk,
            member=member,
            actor=StaffActor(user=cashier),
            now=past_start + dt.timedelta(minutes=rng.randrange(5, 60)),
        )

    # 2. Gold members only: a coffee workshop in ten days.
    gold_event = _event(
        stores[0],
        _at(now + dt.timedelta(days=10), 11),
        hours=3,
        kind=EventKind.WORKSHOP,
        title_uk="Майстер-клас з альтернативного заварювання кави",
        title_ru="Мастер-класс по альтернативному завариванию кофе",
        title_ro="Atelier de preparare alternativă a cafelei",
        title_en="Alternative coffee brewing workshop",
        description_uk="Пуровер, аеропрес і кемекс з нашим бариста.\n"
        "Пачка кави з собою в подарунок.",
        description_ru="Пуровер, аэропресс и кемекс с нашим бариста.\n"
        "Пачка кофе с собой в подарок.",
        description_ro="Pour-over, AeroPress și Chemex cu baristul nostru.\n"
        "Un pachet de cafea cadou, la plecare.",
        description_en="Pour-over, AeroPress and Chemex with our barista.\n"
        "A bag of coffee to take home.",
        capacity=12,
        min_tier=gold,
        checkin_points=100,
    )
    for member in golds[:5]:
        event_rsvp(member=member, event_id=gold_event.pk)

    # 3. A product presentation that filled up: a waitlist of two.
    full = _event(
        stores[1 % len(stores)],
        _at(now + dt.timedelta(days=4), 17),
        kind=EventKind.PRESENTATION,
        title_uk="Презентація осінньої колекції чаю",
        title_ru="Презентация осенней коллекции чая",
        title_ro="Prezentarea colecției de ceai de toamnă",
        title_en="Autumn tea collection launch",
        description_uk="Скуштуйте нові купажі, перш ніж вони з'являться на полицях.",
        description_ru="Попробуйте новые купажи до того, как они появятся на полках.",
        description_ro="Gustați noile amestecuri înainte să ajungă pe rafturi.",
        description_en="Taste the new blends before they reach the shelves.",
        capacity=6,
        checkin_points=20,
    )
    for member in others[20:26]:
        event_rsvp(member=member, event_id=full.pk)
    for member in others[26:28]:
        event_rsvp(member=member, event_id=full.pk, waitlist=True)

    # 4. An open wine tasting the demo customer is going to.
    open_event = _event(
        stores[0],
        _at(now + dt.timedelta(days=2), 19),
        kind=EventKind.TASTING,
        title_uk="Вечір молодого вина",
        title_ru="Вечер молодого вина",
        title_ro="Seara vinului tânăr",
        title_en="Young wine evening",
        description_uk="П'ять молодих вин з Одещини та Бессарабії.",
        description_ru="Пять молодых вин из Одесщины и Бессарабии.",
        description_ro="Cinci vinuri tinere din regiunea Odesa și din Basarabia.",
        description_en="Five young wines from Odesa and Bessarabia.",
        capacity=30,
        checkin_points=25,
    )
    for member in others[30:38]:
        event_rsvp(member=member, event_id=open_event.pk)
    if demo is not None:
        event_rsvp(member=demo, event_id=open_event.pk)

    content_page_save(
        page=ContentPage(
            kind=ContentKind.PAGE,
            slug="how-tastings-work",
            title_uk="Як проходять наші дегустації",
            title_ru="Как проходят наши дегустации",
            title_ro="Cum decurg degustările noastre",
            title_en="How our tastings work",
            body_uk="Записуйтеся на сторінці «Події».\n\n"
            "На касі назвіть номер телефону: ми відмітимо вас і нарахуємо бали.",
            body_ru="Записывайтесь на странице «События».\n\n"
            "На кассе назовите номер телефона: мы отметим вас и начислим баллы.",
            body_ro="Înscrieți-vă pe pagina „Evenimente”.\n\n"
            "La casă, spuneți numărul de telefon: vă înregistrăm și primiți "
            "punctele.",
            body_en="Sign up on the Events page.\n\n"
            "At the counter, give your phone number: we check you in and the "
            "points are yours.",
            published_from=now - dt.timedelta(days=30),
        )
    )
    content_page_save(
        page=ContentPage(
            kind=ContentKind.OFFER,
            slug="gold-early-access",
            title_uk="Золото: ранній доступ до розпродажу",
            title_ru="Золото: ранний доступ к распродаже",
            title_ro="Aur: acces anticipat la reduceri",
            title_en="Gold: early sale access",
            body_uk="Для учасників рівня Золото розпродаж починається на два дні "
            "раніше.",
            body_ru="Для участников уровня Золото распродажа начинается на два дня "
            "раньше.",
            body_ro="Pentru membrii de nivel Aur, reducerile încep cu două zile mai "
            "devreme.",
            body_en="For Gold members the sale starts two days early.",
            min_tier=gold,
            published_from=now - dt.timedelta(days=3),
            published_until=now + dt.timedelta(days=27),
        )
    )
    command.stdout.write(
        f"Events: 4 ({len(came)} check-ins at the past tasting), members-only pages: 2."
    )
