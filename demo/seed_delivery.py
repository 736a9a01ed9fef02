"""Demo data of delivery (called by seed_demo): every journey switched on with
its texts in the four languages, the delivery settings, and one run of the
journeys so the Outbox and the message log have something to show."""

from __future__ import annotations

from django.utils import timezone

from campaigns.journeys.services import RUNS, journey_due, journey_send_chunk
from campaigns.messaging.delivery import message_deliver
from campaigns.messaging.services import delivery_settings_get
from campaigns.models import Journey, JourneyKind, Message, MessageStatus

# kind: (days, {language: (subject, body)})
TEXTS: dict[str, tuple[int, dict[str, tuple[str, str]]]] = {
    JourneyKind.WELCOME: (
        7,
        {
            "uk": (
                "Вітаємо в програмі лояльності",
                "{{ first_name }}, дякуємо, що приєдналися! Ваша картка "
                "{{ card_number }}, на рахунку {{ balance|points }}.",
            ),
            "ru": (
                "Добро пожаловать в программу лояльности",
                "{{ first_name }}, спасибо, что присоединились! Ваша карта "
                "{{ card_number }}, на счету {{ balance|points }}.",
            ),
            "ro": (
                "Bun venit în programul de fidelitate",
                "{{ first_name }}, mulțumim că v-ați alăturat! Cardul dvs. "
                "{{ card_number }}, sold {{ balance|points }}.",
            ),
            "en": (
                "Welcome to the loyalty program",
                "{{ first_name }}, thank you for joining! Your card is "
                "{{ card_number }}, with {{ balance|points }}.",
            ),
        },
    ),
    JourneyKind.BIRTHDAY: (
        7,
        {
            "uk": (
                "З днем народження!",
                "{{ first_name }}, вітаємо з днем народження! Заходьте по подарунок.",
            ),
            "ru": (
                "С днём рождения!",
                "{{ first_name }}, поздравляем с днём рождения! Заходите за подарком.",
            ),
            "ro": (
                "La mulți ani!",
                "{{ first_name }}, la mulți ani! Treceți pe la noi pentru un cadou.",
            ),
            "en": (
                "Happy birthday!",
                "{{ first_name }}, happy birthday! Drop by for your gift.",
            ),
        },
    ),
    JourneyKind.POINTS_EXPIRING: (
        14,
        {
            "uk": (
                "Ваші бали скоро згорять",
                "{{ first_name }}, частина ваших балів ({{ points_expiring|points }}) згорає, починаючи з {{ points_expiring_date }}. Використайте їх!",
            ),
            "ru": (
                "Ваши баллы скоро сгорят",
                "{{ first_name }}, часть ваших баллов ({{ points_expiring|points }}) сгорает, начиная с {{ points_expiring_date }}. Используйте их!",
            ),
            "ro": (
                "Punctele expiră curând",
                "{{ first_name }}, o parte din punctele dvs. ({{ points_expiring|points }}) expiră începând cu {{ points_expiring_date }}. Folosiți-le!",
            ),
            "en": (
                "Your points expire soon",
                "{{ first_name }}, some of your points ({{ points_expiring|points }}) expire starting on {{ points_expiring_date }}. Use them!",
            ),
        },
    ),
    JourneyKind.TIER_UP: (
        7,
        {
            "uk": (
                "Новий рівень: {{ tier }}",
                "{{ first_name }}, вітаємо! Ви перейшли з {{ previous_tier }} на {{ tier }}.",
            ),
            "ru": (
                "Новый уровень: {{ tier }}",
                "{{ first_name }}, поздравляем! Вы перешли с {{ previous_tier }} на {{ tier }}.",
            ),
            "ro": (
                "Nivel nou: {{ tier }}",
                "{{ first_name }}, felicitări! Ați trecut de la {{ previous_tier }} la {{ tier }}.",
            ),
            "en": (
                "New tier: {{ tier }}",
                "{{ first_name }}, congratulations! You moved up from {{ previous_tier }} to {{ tier }}.",
            ),
        },
    ),
    JourneyKind.TIER_DOWN: (
        7,
        {
            "uk": (
                "Ваш рівень змінився",
                "{{ first_name }}, ваш рівень тепер {{ tier }}. Кілька покупок, і {{ previous_tier }} повернеться.",
            ),
            "ru": (
                "Ваш уровень изменился",
                "{{ first_name }}, ваш уровень теперь {{ tier }}. Несколько покупок, и {{ previous_tier }} вернётся.",
            ),
            "ro": (
                "Nivelul dvs. s-a schimbat",
                "{{ first_name }}, nivelul dvs. este acum {{ tier }}. Câteva cumpărături și {{ previous_tier }} revine.",
            ),
            "en": (
                "Your tier changed",
                "{{ first_name }}, your tier is now {{ tier }}. A few purchases bring {{ previous_tier }} back.",
            ),
        },
    ),
    JourneyKind.WIN_BACK: (
        60,
        {
            "uk": (
                "Ми сумуємо за вами",
                '{{ first_name }}, вас не було {{ days_since_purchase }} {{ days_since_purchase|plural:"день,дні,днів" }}. На вашому рахунку {{ balance|points }}.',
            ),
            "ru": (
                "Мы скучаем по вам",
                '{{ first_name }}, вас не было {{ days_since_purchase }} {{ days_since_purchase|plural:"день,дня,дней" }}. На вашем счету {{ balance|points }}.',
            ),
            "ro": (
                "Ne este dor de dvs.",
                '{{ first_name }}, nu ați mai fost pe la noi de {{ days_since_purchase }} {{ days_since_purchase|plural:"zi,zile,de zile" }}. Vă așteaptă {{ balance|points }}.',
            ),
            "en": (
                "We miss you",
                '{{ first_name }}, it has been {{ days_since_purchase }} {{ days_since_purchase|plural:"day,days" }}. You have {{ balance|points }} waiting for you.',
            ),
        },
    ),
    JourneyKind.VOUCHER_REMINDER: (
        5,
        {
            "uk": (
                "Ваш ваучер скоро згорить",
                "{{ first_name }}, ваучер «{{ reward }}» ({{ voucher_code }}) дійсний до {{ voucher_expires_date }}.",
            ),
            "ru": (
                "Ваш ваучер скоро сгорит",
                "{{ first_name }}, ваучер «{{ reward }}» ({{ voucher_code }}) действует до {{ voucher_expires_date }}.",
            ),
            "ro": (
                "Voucherul expiră curând",
                "{{ first_name }}, voucherul „{{ reward }}” ({{ voucher_code }}) este valabil până la {{ voucher_expires_date }}.",
            ),
            "en": (
                "Your voucher expires soon",
                "{{ first_name }}, your “{{ reward }}” voucher ({{ voucher_code }}) is valid until {{ voucher_expires_date }}.",
            ),
        },
    ),
    JourneyKind.MEMBERSHIP_RENEWAL: (
        7,
        {
            "uk": (
                "Подовжте членство",
                "{{ first_name }}, ваше членство {{ plan }} закінчується {{ membership_ends_date }}. Подовжте його в будь-якому магазині.",
            ),
            "ru": (
                "Продлите членство",
                "{{ first_name }}, ваше членство {{ plan }} заканчивается {{ membership_ends_date }}. Продлите его в любом магазине.",
            ),
            "ro": (
                "Reînnoiți abonamentul",
                "{{ first_name }}, abonamentul {{ plan }} se încheie pe {{ membership_ends_date }}. Reînnoiți-l în orice magazin.",
            ),
            "en": (
                "Renew your membership",
                "{{ first_name }}, your {{ plan }} membership ends on {{ membership_ends_date }}. Renew it at any of our stores.",
            ),
        },
    ),
}


def journeys_seed() -> list[Journey]:
    """Every journey switched on with its four texts (a text already written is
    kept)."""
    made = []
    for kind, (days, texts) in TEXTS.items():
        journey, _created = Journey.objects.get_or_create(
            kind=kind, defaults={"enabled": True, "days": days}
        )
        changed = []
        for language, (subject, body) in texts.items():
            if not journey.text_in(language)[1]:
                setattr(journey, f"subject_{language}", subject)
                setattr(journey, f"body_{language}", body)
                changed += [f"subject_{language}", f"body_{language}"]
        if changed:
            journey.save(update_fields=changed)
        made.append(journey)
    return made


def seed(*, command) -> None:
    """Called once by seed_demo after the history is written."""
    delivery_settings_get()
    journeys_seed()
    now = timezone.now()
    for kinds in RUNS.values():
        for kind in kinds:
            journey = Journey.objects.get(kind=kind)
            due = journey_due(journey=journey, now=now)[:40]
            journey_send_chunk(kind=kind, items=due, now=now)
    # Deliver here rather than wait for a worker, so the Outbox shows them at once;
    # the tasks queued on commit find them sent and do nothing.
    queued = Message.objects.filter(
        status=MessageStatus.QUEUED, send_after__isnull=True
    )
    for pk in queued.values_list("pk", flat=True):
        message_deliver(message_id=pk)
    counts = {
        status: Message.objects.filter(status=status).count()
        for status in MessageStatus.values
    }
    command.stdout.write(
        f"Journeys switched on with texts in 4 languages; messages: {counts}."
    )
