"""A customer enters a promo code online (the portal's "Enter a code" box)
for a bonus: the bonus-points and voucher codes without a purchase."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.errors import Conflict, InvalidInput
from members.models import Member
from rewards.locks import account_lock, promo_code_lock, promo_key_lock
from rewards.models import (
    LedgerKind,
    PromoCode,
    PromoCodeKey,
    PromoCodeUse,
    PromoEffect,
    PromoUseSource,
    VoucherSource,
)
from rewards.reasons import PROMO_CODE_BONUS, system_reason
from rewards.services.idempotency import idempotent_write
from rewards.services.ledger import entry_post
from rewards.services.promocodes import (
    PromoRefused,
    promo_key_get,
    promo_limits_check,
    promo_static_check,
)
from rewards.services.vouchers import voucher_grant
from rewards.services.webhook_events import promo_code_used_record

ONLINE_EFFECTS = (PromoEffect.BONUS_POINTS, PromoEffect.VOUCHER)


def promo_code_redeem_online(
    *, member: Member, code: str, idempotency_key: str
) -> tuple[PromoCodeUse, bool]:
    """A member enters a code on the portal: a bonus-points or voucher code
    without a minimum spend or stores gives its bonus at once. Returns (use,
    replayed); the same key again returns the first use. Locks the member's
    account, then the promotion and the code. Queues nothing. Raises a
    ServiceError naming `code` with a `reason`."""
    key_text = (idempotency_key or "").strip()[:80]
    if not key_text:
        raise InvalidInput(_("The form expired; send it again."), field="code")

    def lookup() -> PromoCodeUse | None:
        return PromoCodeUse.objects.filter(idempotency_key=key_text).first()

    def replay(existing: PromoCodeUse) -> tuple[PromoCodeUse, bool]:
        if existing.member_id != member.pk:
            raise Conflict(_("This form was already sent."), field="code")
        return existing, True

    def work() -> tuple[PromoCodeUse, bool]:
        account = account_lock(member_id=member.pk)
        existing = lookup()
        if existing is not None:
            return replay(existing)
        now = timezone.now()
        try:
            found = promo_key_get(code)
            promo = promo_code_lock(promo_id=found.promo_id)
            key = promo_key_lock(key_id=found.pk)
            key.promo = promo
            if promo.effect not in ONLINE_EFFECTS or promo.min_spend > 0:
                raise PromoRefused("till_only", key.code)
            promo_static_check(key, member=member, store=None, basket=None, at=now)
            promo_limits_check(key, member=member, at=now)
        except PromoRefused as refused:
            raise refused.error("code") from None
        PromoCode.objects.filter(pk=promo.pk).update(uses_count=F("uses_count") + 1)
        PromoCodeKey.objects.filter(pk=key.pk).update(uses_count=F("uses_count") + 1)
        entry = voucher = None
        points = (promo.points or 0) if promo.effect == PromoEffect.BONUS_POINTS else 0
        if points:
            entry = entry_post(
                account=account,
                kind=LedgerKind.BONUS,
                points=points,
                reason=system_reason(
                    PROMO_CODE_BONUS, promo_id=promo.pk, promo=promo.name, code=key.code
                ),
            )
        if promo.effect == PromoEffect.VOUCHER and promo.reward_id:
            voucher, _replayed = voucher_grant(
                member=member,
                reward=promo.reward,
                source=VoucherSource.PROMO_CODE,
                idempotency_key=f"promo-online:{key_text}",
            )
        use = PromoCodeUse.objects.create(
            promo=promo,
            key=key,
            member=member,
            source=PromoUseSource.ONLINE,
            effect=promo.effect,
            points=points,
            voucher=voucher,
            entry=entry,
            used_at=now,
            used_on=timezone.localdate(now),
            idempotency_key=key_text,
        )
        promo_code_used_record(
            member_id=member.pk, promo_code_id=promo.pk, code=key.code, at=now
        )
        return use, False

    if transaction.get_connection().in_atomic_block:
        return work()
    return idempotent_write(work, lookup, replay)
