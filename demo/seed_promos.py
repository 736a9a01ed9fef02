"""The demo's promo codes, so the promo report and the Counter's code field have
something to show: a shared social-media code that members enter on the portal
or give at the till, and a batch of unique e-mail codes with a discount that
the tills apply. Some of each are used in the demo's last days.

Written through the promo services (promo_code_save, promo_batch_generate,
purchase_record with `promo_code`, promo_code_redeem_online), so the uses carry
their ledger entries and limits like real ones.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from demo.texts import translations
from members.models import Member
from rewards.models import PromoChannel, PromoCode, PromoCodeMode, PromoEffect
from rewards.services.promocode_batches import promo_batch_generate, promo_code_save
from rewards.services.promocode_online import promo_code_redeem_online
from rewards.services.purchases import purchase_record

SHARED_CODE = "ZERNO50"
BATCH_SIZE = 300

TEXTS: dict[str, dict[str, str]] = {
    "Autumn bonus": {
        "uk": "Осінній бонус",
        "ru": "Осенний бонус",
        "ro": "Bonus de toamnă",
        "en": "Autumn bonus",
    },
    "50 bonus points with the code from our Instagram.": {
        "uk": "50 бонусних балів за кодом з нашого Instagram.",
        "ru": "50 бонусных баллов по коду из нашего Instagram.",
        "ro": "50 de puncte bonus cu codul din Instagramul nostru.",
        "en": "50 bonus points with the code from our Instagram.",
    },
    "Welcome back": {
        "uk": "З поверненням",
        "ru": "С возвращением",
        "ro": "Bine ai revenit",
        "en": "Welcome back",
    },
    "10 % off one purchase with your personal code from our letter.": {
        "uk": "Знижка 10 % на одну покупку за вашим особистим кодом із листа.",
        "ru": "Скидка 10 % на одну покупку по вашему личному коду из письма.",
        "ro": "10 % reducere la o cumpărătură cu codul personal din scrisoarea noastră.",
        "en": "10 % off one purchase with your personal code from our letter.",
    },
}


def _promo(name: str, description: str, **fields) -> PromoCode:
    return PromoCode(
        **translations("name", name, TEXTS),
        **translations("description", description, TEXTS),
        **fields,
    )


def seed(*, command) -> None:
    """Two promotions and their uses in the demo's last fortnight."""
    if PromoCode.objects.exists():
        return
    end = command.end
    rng = command.rng
    shared = promo_code_save(
        promo=_promo(
            "Autumn bonus",
            "50 bonus points with the code from our Instagram.",
            mode=PromoCodeMode.SHARED,
            effect=PromoEffect.BONUS_POINTS,
            points=50,
            max_uses_per_member=1,
            channel=PromoChannel.SOCIAL,
            starts_at=end - dt.timedelta(days=14),
            ends_at=end + dt.timedelta(days=45),
        ),
        code=SHARED_CODE,
    )
    batch_promo = promo_code_save(
        promo=_promo(
            "Welcome back",
            "10 % off one purchase with your personal code from our letter.",
            mode=PromoCodeMode.BATCH,
            effect=PromoEffect.DISCOUNT_PERCENT,
            discount_percent=Decimal("10"),
            min_spend=Decimal("150"),
            channel=PromoChannel.EMAIL,
            starts_at=end - dt.timedelta(days=14),
            ends_at=end + dt.timedelta(days=30),
        ),
        stores=command.stores,
    )
    batch = promo_batch_generate(
        promo=batch_promo, size=BATCH_SIZE, label="demo-winback"
    )
    # The newest: the feedback and approvals demos take the first ones.
    members = list(Member.objects.order_by("-pk")[:400])
    rng.shuffle(members)
    online, at_till = members[:25], members[25:40]
    for member in online:
        promo_code_redeem_online(
            member=member, code=SHARED_CODE, idempotency_key=f"demo-promo-{member.pk}"
        )
    codes = list(batch.keys.order_by("pk").values_list("code", flat=True))
    for i, member in enumerate(at_till):
        store = command.stores[i % len(command.stores)]
        purchase_record(
            store=store,
            member=member,
            receipt_id=f"PROMO-{i + 1:04d}",
            total=Decimal(rng.randrange(160, 420)),
            # Never before the member joined (the newest joined days ago).
            occurred_at=max(
                end - dt.timedelta(days=rng.randrange(0, 10), hours=2),
                member.enrolled_at,
            ),
            promo_code=codes[i],
        )
    used = len(online) + len(at_till)
    command.stdout.write(
        f"Promo codes: {SHARED_CODE} and a batch of {BATCH_SIZE}, {used} uses."
    )
    return shared
