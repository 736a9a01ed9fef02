"""Promo codes written by staff: saving a promotion (with its shared code) and
generating a batch of unique codes in bulk."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from members.audit import StaffActor, audited_save
from members.errors import InvalidInput
from members.models import Store, User
from rewards.models import (
    PromoCode,
    PromoCodeBatch,
    PromoCodeKey,
    PromoCodeMode,
    PromoEffect,
    Tier,
)
from rewards.models.promocodes import CODE_MAX_LENGTH
from rewards.services.promocodes import promo_code_normalize

# No 0/O, 1/I/L: nothing a customer reading a printed code can mistake.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BATCH_CODE_LENGTH = 10  # 31**10 ≈ 8e14: a guess hits one of a million codes 1 in 8e8
MAX_BATCH = 1_000_000
CHUNK = 5_000

# The field each effect needs.
EFFECT_FIELDS = {
    PromoEffect.BONUS_POINTS: "points",
    PromoEffect.MULTIPLIER: "multiplier",
    PromoEffect.VOUCHER: "reward",
    PromoEffect.DISCOUNT_FIXED: "discount_amount",
    PromoEffect.DISCOUNT_PERCENT: "discount_percent",
}


def promo_code_new(length: int = BATCH_CODE_LENGTH) -> str:
    """A random code from the unambiguous alphabet (`secrets`, not `random`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def promo_code_check(promo: PromoCode) -> None:
    """What the admin form and the service both refuse (InvalidInput naming the field)."""
    needed = EFFECT_FIELDS.get(promo.effect)
    if needed and getattr(promo, needed if needed != "reward" else "reward_id") in (
        None,
        "",
    ):
        raise InvalidInput(_("Give this for the chosen effect."), field=needed)
    if promo.effect == PromoEffect.DISCOUNT_PERCENT and promo.discount_percent >= 100:
        raise InvalidInput(
            _("A discount must be below 100 percent."), field="discount_percent"
        )
    if promo.starts_at and promo.ends_at and promo.ends_at <= promo.starts_at:
        raise InvalidInput(_("The end must come after the start."), field="ends_at")


def shared_code_clean(code: str, *, promo: PromoCode | None = None) -> str:
    """A shared code as it is kept, refused when empty, too long or taken."""
    normal = promo_code_normalize(code)
    if not normal:
        raise InvalidInput(_("Enter the code customers type."), field="code")
    if len(normal) > CODE_MAX_LENGTH or not normal.isalnum():
        raise InvalidInput(
            _("A code has at most %(max)s letters and digits.")
            % {"max": CODE_MAX_LENGTH},
            field="code",
        )
    taken = PromoCodeKey.objects.filter(code=normal)
    if promo is not None and promo.pk:
        taken = taken.exclude(promo=promo)
    if taken.exists():
        raise InvalidInput(
            _("Code %(code)s is taken.") % {"code": normal}, field="code"
        )
    return normal


def promo_code_save(
    *,
    promo: PromoCode,
    code: str | None = None,
    stores: Iterable[Store] | None = None,
    tiers: Iterable[Tier] | None = None,
    actor: StaffActor | None = None,
) -> PromoCode:
    """Validate and write a promotion, its stores and tiers and, for a shared
    one, its code (`code`; changing it renames the one key, its uses stay).
    With the audit row of `actor`. Locks nothing; queues nothing."""
    promo_code_check(promo)
    if promo.mode == PromoCodeMode.SHARED and code is not None:
        code = shared_code_clean(code, promo=promo)
    with transaction.atomic():
        promo = audited_save(obj=promo, actor=actor)
        if stores is not None:
            promo.stores.set(stores)
        if tiers is not None:
            promo.tiers.set(tiers)
        if promo.mode == PromoCodeMode.SHARED and code:
            key = promo.keys.filter(batch__isnull=True).first()
            if key is None:
                PromoCodeKey.objects.create(code=code, promo=promo)
            elif key.code != code:
                key.code = code
                key.save(update_fields=["code"])
    return promo


def promo_batch_generate(
    *,
    promo: PromoCode,
    size: int,
    label: str = "",
    created_by: User | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
) -> PromoCodeBatch:
    """Generate `size` unique codes for a batch promotion, each usable once.

    In chunks of `chunk` rows (bulk_create ignoring conflicts); a code that
    collides with an existing one is simply not inserted, and the next round
    makes up the difference, so the batch ends with exactly `size` codes.
    `progress(done, size)` is called after each chunk. One transaction: a
    failure leaves no half batch. Locks nothing; queues nothing."""
    if promo.mode != PromoCodeMode.BATCH:
        raise InvalidInput(
            _("Only a promotion with unique codes gets a batch."), field="promo"
        )
    if not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
        raise InvalidInput(
            _("Generate between 1 and %(max)s codes.") % {"max": MAX_BATCH},
            field="size",
        )
    with transaction.atomic():
        batch = PromoCodeBatch.objects.create(
            promo=promo, label=label.strip()[:120], size=size, created_by=created_by
        )
        done = 0
        rounds = 0
        while done < size:
            rounds += 1
            if rounds > size // chunk + 20:  # the alphabet would have to be exhausted
                raise InvalidInput(_("Could not find enough free codes."), field="size")
            wanted = min(chunk, size - done)
            codes = {promo_code_new() for _ in range(wanted)}
            PromoCodeKey.objects.bulk_create(
                [
                    PromoCodeKey(code=c, promo=promo, batch=batch, max_uses=1)
                    for c in codes
                ],
                ignore_conflicts=True,
            )
            done = PromoCodeKey.objects.filter(batch=batch).count()
            if progress is not None:
                progress(done, size)
    return batch


def promo_batch_rows(batch: PromoCodeBatch) -> Iterable[list]:
    """The batch's codes as CSV rows (the header first), for members.csvexport."""
    yield [_("code"), _("promo code"), _("batch"), _("uses allowed"), _("uses")]
    keys = (
        PromoCodeKey.objects.filter(batch=batch)
        .order_by("pk")
        .values_list("code", "max_uses", "uses_count")
    )
    name, label = batch.promo.name, str(batch)
    for code, max_uses, uses in keys.iterator(chunk_size=5000):
        yield [code, name, label, max_uses, uses]
