"""Promo codes at work: checking a code for a basket and a member, using it in
a purchase's transaction, reversing it with a return of the whole purchase,
and (rewards.services.promocode_online) a customer entering a bonus code online.

Choices (docs/api.md, "Promo codes", tells tills the same):

- A purchase's `total` is what the customer paid, after the till took off a
  code's discount; points are earned on it, as on any purchase. The minimum
  spend is checked on the basket before the discount (paid + discount). A
  percent discount is recorded as paid × p ÷ (100 − p), rounded to the cent.
- Bonus points and a multiplier's extra points are a BONUS ledger entry of
  their own, linked to the purchase and to the use; the earn cap
  (ProgramSettings.earn_cap_percent) holds the multiplier's extra so that the
  purchase with it earns no more than the cap, while a fixed bonus is the
  promotion's own budget and is not capped.
- Stacking: "stack" earns the rules' promotions and the code; "replace" drops
  the promotions; "best of" (points codes) earns whichever gives more points,
  and the code is then not used when the promotions win. A discount or
  voucher code set to "best of" acts as "replace": money and points do not
  compare honestly.
- A code that cannot be used refuses the whole purchase (409 or 400 naming
  `promo_code`): the till applied its discount after validating it, so a
  purchase must not pass silently without it. The till sends it again
  without the code.
- A partial return keeps the use and its bonus; the return that leaves nothing
  of the purchase (one or the last of several) reverses the use once: its
  points go back (a CLAWBACK entry linked to the return, not the purchase, so
  the purchase's own earn and clawback sums stay its own), an unused voucher
  it gave is cancelled, and its place in the limits is free again.

Lock order (rewards/locks.py): the member's account, then (a return) the
purchase, then the promotion's row (`promo_code_lock`), then the code's row
(`promo_key_lock`). Counting uses under the promotion's row lock makes every
limit exact; CheckConstraints back the totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.errors import Conflict, InvalidInput, NotFound, ServiceError
from members.models import Member, Store
from rewards.locks import promo_code_lock, promo_key_lock, promo_use_lock
from rewards.models import (
    LedgerKind,
    PointsAccount,
    PromoCode,
    PromoCodeKey,
    PromoCodeUse,
    PromoEffect,
    PromoStacking,
    Purchase,
    PurchaseReturn,
    Voucher,
    VoucherSource,
    VoucherStatus,
)
from rewards.models.promocodes import CODE_MAX_LENGTH
from rewards.reasons import PROMO_CODE_BONUS, PROMO_CODE_REVERSED, system_reason
from rewards.services.ledger import entry_post
from rewards.services.vouchers import voucher_grant
from rewards.services.webhook_events import promo_code_used_record

CENT = Decimal("0.01")
EXACT = Decimal("0.000001")

# Why a code cannot be used: the reason code a till can act on, its status
# and the message a person reads.
REFUSALS: dict[str, tuple[type[ServiceError], object]] = {
    "unknown": (NotFound, _("No promo code %(code)s.")),
    "inactive": (InvalidInput, _("Promo code %(code)s is switched off.")),
    "not_yet_valid": (InvalidInput, _("Promo code %(code)s is valid from %(date)s.")),
    "expired": (InvalidInput, _("Promo code %(code)s expired on %(date)s.")),
    "wrong_store": (InvalidInput, _("Promo code %(code)s is not valid here.")),
    "below_min_spend": (
        InvalidInput,
        _("Promo code %(code)s needs a purchase of at least %(amount)s."),
    ),
    "limit_reached": (Conflict, _("Promo code %(code)s has been used up.")),
    "member_limit_reached": (
        Conflict,
        _("This member has used promo code %(code)s as often as allowed."),
    ),
    "day_limit_reached": (
        Conflict,
        _("Promo code %(code)s has been used as often as allowed today."),
    ),
    "not_eligible_tier": (
        InvalidInput,
        _("Promo code %(code)s is not for this member's tier."),
    ),
    "not_eligible_segment": (
        InvalidInput,
        _("Promo code %(code)s is not for this member."),
    ),
    "till_only": (
        InvalidInput,
        _("Promo code %(code)s is used at the till, with a purchase."),
    ),
}


class PromoRefused(Exception):
    """Raised with a reason code of REFUSALS; `error(field)` makes the ServiceError."""

    def __init__(self, reason: str, code: str, **params) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.params = params

    def error(self, field: str) -> ServiceError:
        cls, message = REFUSALS[self.reason]
        return cls(
            str(message) % {"code": self.code, **self.params},
            field=field,
            reason=self.reason,
        )


# --- the extension point for eligibility rules a higher app knows -------------------
# A check takes (promo, member) and says whether the member may use the code;
# campaigns registers the segment check from its AppConfig.ready().
ELIGIBILITY_CHECKS: list[Callable[[PromoCode, Member], bool]] = []


def promo_eligibility_register(check: Callable[[PromoCode, Member], bool]) -> None:
    """Add an eligibility check (idempotent)."""
    if check not in ELIGIBILITY_CHECKS:
        ELIGIBILITY_CHECKS.append(check)


def promo_code_normalize(code: str) -> str:
    """What a person typed as a code, as it is kept: upper case, no spaces or dashes."""
    text = "".join((code or "").split()).replace("-", "").upper()
    return text[: CODE_MAX_LENGTH + 1]


@dataclass
class PromoOffer:
    """What a code gives on a given basket: the till's discount and an
    estimate of the points (the multiplier's depend on the earning)."""

    key: PromoCodeKey
    promo: PromoCode
    discount: Decimal = Decimal("0")
    points: int = 0
    multiplier: Decimal | None = None

    @property
    def code(self) -> str:
        return self.key.code


def promo_key_get(code: str) -> PromoCodeKey:
    normal = promo_code_normalize(code)
    key = (
        PromoCodeKey.objects.select_related("promo", "promo__reward")
        .filter(code=normal)
        .first()
        if normal and len(normal) <= CODE_MAX_LENGTH
        else None
    )
    if key is None:
        raise PromoRefused("unknown", normal[:CODE_MAX_LENGTH])
    return key


def discount_for_basket(promo: PromoCode, basket: Decimal) -> Decimal:
    """The money a discount code takes off a basket worth `basket`."""
    if promo.effect == PromoEffect.DISCOUNT_FIXED:
        return min(promo.discount_amount or Decimal("0"), basket)
    if promo.effect == PromoEffect.DISCOUNT_PERCENT:
        percent = promo.discount_percent or Decimal("0")
        return (basket * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return Decimal("0")


def discount_for_paid(promo: PromoCode, paid: Decimal) -> Decimal:
    """The discount a till gave on a purchase of which `paid` was paid."""
    if promo.effect == PromoEffect.DISCOUNT_FIXED:
        return promo.discount_amount or Decimal("0")
    if promo.effect == PromoEffect.DISCOUNT_PERCENT:
        percent = promo.discount_percent or Decimal("0")
        if percent >= 100:
            return Decimal("0")
        return (paid * percent / (100 - percent)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Decimal("0")


def _date_text(moment: dt.datetime) -> str:
    from members.formatting import date_format

    return date_format(timezone.localtime(moment))


def promo_static_check(
    key: PromoCodeKey,
    *,
    member: Member,
    store: Store | None,
    basket: Decimal | None,
    at: dt.datetime,
) -> None:
    """Everything but the limits: on/off, dates, store, spend, eligibility."""
    promo, code = key.promo, key.code
    if not promo.active:
        raise PromoRefused("inactive", code)
    if promo.starts_at and at < promo.starts_at:
        raise PromoRefused("not_yet_valid", code, date=_date_text(promo.starts_at))
    if promo.ends_at and at >= promo.ends_at:
        raise PromoRefused("expired", code, date=_date_text(promo.ends_at))
    store_ids = set(promo.stores.values_list("pk", flat=True))
    if store_ids and (store is None or store.pk not in store_ids):
        raise PromoRefused("wrong_store", code)
    if basket is not None and basket < promo.min_spend:
        from members.formatting import money_format
        from rewards.selectors.program import program_settings_get

        amount = money_format(promo.min_spend, program_settings_get().currency)
        raise PromoRefused("below_min_spend", code, amount=amount)
    tier_ids = set(promo.tiers.values_list("pk", flat=True))
    if tier_ids:
        tier_id = (
            PointsAccount.objects.filter(member_id=member.pk)
            .values_list("tier_id", flat=True)
            .first()
        )
        if tier_id not in tier_ids:
            raise PromoRefused("not_eligible_tier", code)
    for check in ELIGIBILITY_CHECKS:
        if not check(promo, member):
            raise PromoRefused("not_eligible_segment", code)


def promo_limits_check(key: PromoCodeKey, *, member: Member, at: dt.datetime) -> None:
    """The limits, from the counters and the uses not reversed. Exact when the
    promotion's row is locked (promo_code_lock); an estimate otherwise."""
    promo, code = key.promo, key.code
    if key.max_uses is not None and key.uses_count >= key.max_uses:
        raise PromoRefused("limit_reached", code)
    if promo.max_uses is not None and promo.uses_count >= promo.max_uses:
        raise PromoRefused("limit_reached", code)
    live = PromoCodeUse.objects.filter(promo=promo, reversed_at__isnull=True)
    if (
        promo.max_uses_per_member is not None
        and live.filter(member=member).count() >= promo.max_uses_per_member
    ):
        raise PromoRefused("member_limit_reached", code)
    if (
        promo.max_uses_per_day is not None
        and live.filter(used_on=timezone.localdate(at)).count()
        >= promo.max_uses_per_day
    ):
        raise PromoRefused("day_limit_reached", code)


def _offer(key: PromoCodeKey, *, basket: Decimal | None) -> PromoOffer:
    promo = key.promo
    offer = PromoOffer(key=key, promo=promo)
    if promo.effect == PromoEffect.BONUS_POINTS:
        offer.points = promo.points or 0
    elif promo.effect == PromoEffect.MULTIPLIER:
        offer.multiplier = promo.multiplier
    elif basket is not None:
        offer.discount = discount_for_basket(promo, basket)
    return offer


def promo_code_validate(
    *, code: str, member: Member, store: Store | None, total: Decimal
) -> PromoOffer:
    """What `code` gives on a basket of `total` (before its discount) for
    `member` at `store`, or a ServiceError naming `code` with `reason` (one
    of REFUSALS). Reads only: the limits may be reached by the time the
    purchase comes. Locks nothing; queues nothing."""
    now = timezone.now()
    try:
        key = promo_key_get(code)
        promo_static_check(key, member=member, store=store, basket=total, at=now)
        promo_limits_check(key, member=member, at=now)
    except PromoRefused as refused:
        raise refused.error("code") from None
    return _offer(key, basket=total)


# --- in a purchase's transaction -------------------------------------------------------


def promo_code_claim(
    *, code: str, member: Member, store: Store, paid: Decimal, at: dt.datetime
) -> PromoOffer:
    """Lock the code's promotion and key (after the member's account, which the
    caller holds) and check everything, limits included, for a purchase of
    which `paid` was paid. Raises a ServiceError naming `promo_code`."""
    try:
        found = promo_key_get(code)
        promo = promo_code_lock(promo_id=found.promo_id)
        key = promo_key_lock(key_id=found.pk)
        key.promo = promo
        discount = discount_for_paid(promo, paid)
        promo_static_check(
            key, member=member, store=store, basket=paid + discount, at=at
        )
        promo_limits_check(key, member=member, at=at)
    except PromoRefused as refused:
        raise refused.error("promo_code") from None
    offer = _offer(key, basket=None)
    offer.discount = discount
    return offer


def promo_rules(offer: PromoOffer | None, rules) -> tuple[list, list | None]:
    """(the rules to earn with, the rules to compare with for "best of")."""
    from rewards.models import RuleKind

    rules = list(rules)
    if offer is None:
        return rules, None
    without = [r for r in rules if r.kind != RuleKind.PROMOTION]
    stacking = offer.promo.stacking
    points_code = offer.promo.effect in (
        PromoEffect.BONUS_POINTS,
        PromoEffect.MULTIPLIER,
    )
    if stacking == PromoStacking.STACK:
        return rules, None
    if stacking == PromoStacking.BEST_OF and points_code and len(without) < len(rules):
        return rules, without
    return without, None


def promo_extra_points(
    offer: PromoOffer, *, exact: Decimal, points: int, cap_exact: Decimal | None
) -> int:
    """The points the code adds to a purchase that earned `points` (`exact`
    before rounding); a multiplier's extra stays under the purchase's cap."""
    if offer.promo.effect == PromoEffect.BONUS_POINTS:
        return offer.points
    if offer.promo.effect != PromoEffect.MULTIPLIER or not offer.multiplier:
        return 0
    boosted = (exact * offer.multiplier).quantize(EXACT)
    if cap_exact is not None:
        boosted = min(boosted, cap_exact)
    return max(int(boosted.to_integral_value(rounding=ROUND_FLOOR)) - points, 0)


def promo_use_record(
    *,
    offer: PromoOffer,
    account: PointsAccount,
    member: Member,
    purchase: Purchase,
    extra_points: int,
    source: str,
    available_at: dt.datetime | None = None,
    expires_at=None,
) -> PromoCodeUse:
    """Use the claimed code on `purchase`: count it, post its bonus, give its
    voucher. Inside purchase_record's transaction, with the locks of
    promo_code_claim held. Queues nothing."""
    promo, key = offer.promo, offer.key
    PromoCode.objects.filter(pk=promo.pk).update(uses_count=F("uses_count") + 1)
    PromoCodeKey.objects.filter(pk=key.pk).update(uses_count=F("uses_count") + 1)
    entry = None
    if extra_points:
        extra = {"expires_at": expires_at} if expires_at is not None else {}
        entry = entry_post(
            account=account,
            kind=LedgerKind.BONUS,
            points=extra_points,
            reason=system_reason(
                PROMO_CODE_BONUS, promo_id=promo.pk, promo=promo.name, code=key.code
            ),
            purchase=purchase,
            available_at=available_at,
            **extra,
        )
        purchase.balance_after = account.balance
        Purchase.objects.filter(pk=purchase.pk).update(balance_after=account.balance)
    voucher = None
    if promo.effect == PromoEffect.VOUCHER and promo.reward_id:
        voucher, _replayed = voucher_grant(
            member=member,
            reward=promo.reward,
            source=VoucherSource.PROMO_CODE,
            idempotency_key=f"promo-purchase:{purchase.pk}",
        )
    promo_code_used_record(
        member_id=member.pk,
        promo_code_id=promo.pk,
        code=key.code,
        purchase_id=purchase.pk,
        at=purchase.created_at,
    )
    return PromoCodeUse.objects.create(
        promo=promo,
        key=key,
        member=member,
        purchase=purchase,
        store=purchase.store,
        source=source,
        effect=promo.effect,
        points=extra_points,
        discount=offer.discount,
        revenue=purchase.total,
        voucher=voucher,
        entry=entry,
        used_at=purchase.created_at,
        used_on=timezone.localdate(purchase.occurred_at),
    )


def promo_use_reverse(
    *, account: PointsAccount, purchase: Purchase, purchase_return: PurchaseReturn
) -> PromoCodeUse | None:
    """Reverse the code used on `purchase`, once, when `purchase_return` left
    nothing of it: take its bonus back, cancel its voucher if unused, free its
    place in the limits. Inside purchase_return_record's transaction, after
    the account and the purchase are locked. Queues nothing."""
    use = promo_use_lock(purchase_id=purchase.pk)
    if use is None:
        return None
    promo_code_lock(promo_id=use.promo_id)
    promo_key_lock(key_id=use.key_id)
    PromoCode.objects.filter(pk=use.promo_id).update(uses_count=F("uses_count") - 1)
    PromoCodeKey.objects.filter(pk=use.key_id).update(uses_count=F("uses_count") - 1)
    if use.points:
        use.reversal_entry = entry_post(
            account=account,
            kind=LedgerKind.CLAWBACK,
            points=-use.points,
            reason=system_reason(
                PROMO_CODE_REVERSED,
                code=use.key.code,
                return_receipt=purchase_return.receipt_id,
                receipt=purchase.receipt_id,
            ),
            purchase_return=purchase_return,
        )
        purchase_return.balance_after = account.balance
        PurchaseReturn.objects.filter(pk=purchase_return.pk).update(
            balance_after=account.balance
        )
    if use.voucher_id:
        Voucher.objects.filter(pk=use.voucher_id, status=VoucherStatus.ISSUED).update(
            status=VoucherStatus.CANCELLED, cancelled_at=timezone.now()
        )
    use.reversed_at = timezone.now()
    use.save(update_fields=["reversed_at", "reversal_entry"])
    return use
